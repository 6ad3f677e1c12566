#ifndef LIFTOFF_TESTS_SUPPORT_NET_TEST_CERTS_HPP
#define LIFTOFF_TESTS_SUPPORT_NET_TEST_CERTS_HPP

// Certificates made at test time with the OpenSSL API (EC P-256 keys), so TLS
// tests need neither fixtures on disk nor the `openssl` command.

#include <string>
#include <vector>

namespace liftoff::test {

/// A certificate and its private key, both PEM.
struct pem_pair {
  std::string cert;
  std::string key;
};

/// A certificate authority that signs test certificates.
class test_ca {
public:
  /// A new self-signed CA named `common_name`.
  explicit test_ca(std::string const& common_name = "liftoff test CA");

  /// The CA's own certificate and key.
  pem_pair const& pem() const noexcept { return pem_; }
  std::string const& cert_pem() const noexcept { return pem_.cert; }

  /** A server certificate for `dns_names` and `ip_addresses` (subjectAltName),
      e.g. {"localhost"}, {"127.0.0.1"}. */
  pem_pair issue_server(std::vector<std::string> const& dns_names, std::vector<std::string> const& ip_addresses) const;

  /// A client certificate (extendedKeyUsage clientAuth) with `common_name`.
  pem_pair issue_client(std::string const& common_name) const;

private:
  pem_pair pem_;
};

/// A self-signed server certificate no client trusts.
pem_pair make_self_signed_server_cert(std::vector<std::string> const& dns_names,
                                      std::vector<std::string> const& ip_addresses);

}  // namespace liftoff::test

#endif
