#ifndef LIFTOFF_NET_TLS_HPP
#define LIFTOFF_NET_TLS_HPP

/** TLS settings of liftoff::net clients (`https://` endpoints). */

#include <string>

namespace liftoff::net {

/** TLS settings for `https://` endpoints. Certificates and keys come either
    from files or from in-memory PEM data (a kubeconfig's
    `certificate-authority-data`, `client-certificate-data`, `client-key-data`,
    base64-decoded). Data wins over a file when both are set. */
struct tls_options {
  std::string ca_file;           ///< PEM file of trusted CAs; the system's store when neither CA field is set
  std::string ca_data;           ///< PEM text of trusted CAs (one or more certificates)
  std::string client_cert_file;  ///< PEM client certificate (chain) for mutual TLS
  std::string client_cert_data;  ///< same, in memory
  std::string client_key_file;   ///< PEM private key of the client certificate
  std::string client_key_data;   ///< same, in memory
  /// Skips certificate and host name verification. Only for explicit user opt-in
  /// (kubeconfig `insecure-skip-tls-verify`): the connection is then not authenticated.
  bool insecure_skip_verify = false;
  /// The name sent as SNI and checked against the certificate; the endpoint's host when empty.
  std::string server_name;
};

}  // namespace liftoff::net

#endif
