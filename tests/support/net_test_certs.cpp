#include "support/net_test_certs.hpp"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <memory>
#include <stdexcept>

namespace liftoff::test {
namespace {

struct pkey_free { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct x509_free { void operator()(X509* p) const { X509_free(p); } };
struct bio_free { void operator()(BIO* p) const { BIO_free(p); } };
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;
using bio_ptr = std::unique_ptr<BIO, bio_free>;

void check(bool ok, char const* what) {
  if (!ok) throw std::runtime_error(std::string("test certificate: ") + what + " failed");
}

pkey_ptr new_key() {
  pkey_ptr k(EVP_EC_gen("P-256"));
  check(k != nullptr, "EVP_EC_gen");
  return k;
}

std::string bio_text(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string to_pem(X509* x) {
  bio_ptr b(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(b.get(), x) == 1, "PEM_write_bio_X509");
  return bio_text(b.get());
}

std::string to_pem(EVP_PKEY* k) {
  bio_ptr b(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(b.get(), k, nullptr, nullptr, 0, nullptr, nullptr) == 1, "PEM_write_bio_PrivateKey");
  return bio_text(b.get());
}

void add_ext(X509* cert, X509* issuer, int nid, std::string const& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

/// Makes a certificate for `key`, signed by `issuer_key` (self-signed when issuer is null).
x509_ptr make_cert(EVP_PKEY* key, std::string const& cn, X509* issuer, EVP_PKEY* issuer_key,
                   std::vector<std::pair<int, std::string>> const& extensions) {
  static std::atomic<long> serial{1000};
  x509_ptr x(X509_new());
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 24 * 3600);
  X509_set_pubkey(x.get(), key);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<unsigned char const*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* issuer_cert = issuer ? issuer : x.get();
  add_ext(x.get(), issuer_cert, NID_subject_key_identifier, "hash");
  add_ext(x.get(), issuer_cert, NID_authority_key_identifier, "keyid:always");
  for (auto const& [nid, value] : extensions) add_ext(x.get(), issuer_cert, nid, value);
  check(X509_sign(x.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
  return x;
}

std::string san(std::vector<std::string> const& dns, std::vector<std::string> const& ips) {
  std::string out;
  for (auto const& d : dns) out += (out.empty() ? "" : ",") + std::string("DNS:") + d;
  for (auto const& i : ips) out += (out.empty() ? "" : ",") + std::string("IP:") + i;
  return out;
}

x509_ptr read_cert(std::string const& pem) {
  bio_ptr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  x509_ptr x(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  check(x != nullptr, "PEM_read_bio_X509");
  return x;
}

pkey_ptr read_key(std::string const& pem) {
  bio_ptr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  pkey_ptr k(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
  check(k != nullptr, "PEM_read_bio_PrivateKey");
  return k;
}

pem_pair issue(pem_pair const& ca, std::string const& cn, std::vector<std::pair<int, std::string>> const& ext) {
  auto ca_cert = read_cert(ca.cert);
  auto ca_key = read_key(ca.key);
  auto key = new_key();
  auto cert = make_cert(key.get(), cn, ca_cert.get(), ca_key.get(), ext);
  return {to_pem(cert.get()), to_pem(key.get())};
}

}  // namespace

test_ca::test_ca(std::string const& common_name) {
  auto key = new_key();
  auto cert = make_cert(key.get(), common_name, nullptr, nullptr,
                        {{NID_basic_constraints, "critical,CA:TRUE"}, {NID_key_usage, "critical,keyCertSign,cRLSign"}});
  pem_ = {to_pem(cert.get()), to_pem(key.get())};
}

pem_pair test_ca::issue_server(std::vector<std::string> const& dns_names,
                               std::vector<std::string> const& ip_addresses) const {
  return issue(pem_, dns_names.empty() ? "server" : dns_names.front(),
               {{NID_basic_constraints, "CA:FALSE"},
                {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                {NID_ext_key_usage, "serverAuth"},
                {NID_subject_alt_name, san(dns_names, ip_addresses)}});
}

pem_pair test_ca::issue_client(std::string const& common_name) const {
  return issue(pem_, common_name,
               {{NID_basic_constraints, "CA:FALSE"},
                {NID_key_usage, "critical,digitalSignature"},
                {NID_ext_key_usage, "clientAuth"}});
}

pem_pair make_self_signed_server_cert(std::vector<std::string> const& dns_names,
                                      std::vector<std::string> const& ip_addresses) {
  auto key = new_key();
  auto cert = make_cert(key.get(), dns_names.empty() ? "server" : dns_names.front(), nullptr, nullptr,
                        {{NID_basic_constraints, "CA:FALSE"},
                         {NID_ext_key_usage, "serverAuth"},
                         {NID_subject_alt_name, san(dns_names, ip_addresses)}});
  return {to_pem(cert.get()), to_pem(key.get())};
}

}  // namespace liftoff::test
