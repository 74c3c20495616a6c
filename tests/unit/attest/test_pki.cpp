#include "tests/unit/attest/test_pki.h"

#include <openssl/ec.h>

#include <stdexcept>

#include "common/file.h"

namespace shelter::attest::testing {

EvpPkeyPtr generate_ec_key(const char* curve) {
  EvpPkeyPtr key(EVP_EC_gen(curve));
  if (!key) throw std::runtime_error("EC key generation failed");
  return key;
}

TlsServerFiles write_tls_server_pki(const std::filesystem::path& dir, bool names_loopback) {
  std::time_t now = std::time(nullptr);
  std::time_t from = now - 3600, to = now + 86400;
  EvpPkeyPtr root_key = generate_ec_key("P-256"), intermediate_key = generate_ec_key("P-256"),
             server_key = generate_ec_key("P-256");
  // Each PKI gets its own names, so that a client holding another one's root
  // finds no issuer at all rather than a wrong signature.
  static int pki_count = 0;
  std::string suffix = " " + std::to_string(++pki_count);
  X509Ptr root = make_certificate({"Test TLS root" + suffix, from, to, true, {}}, root_key.get(), nullptr, nullptr);
  X509Ptr intermediate = make_certificate({"Test TLS intermediate" + suffix, from, to, true, {}},
                                          intermediate_key.get(), root.get(), root_key.get());
  // GeneralNames: SEQUENCE { [7] iPAddress 127.0.0.1 } or { [2] dNSName "broker.example" }.
  std::vector<uint8_t> names = names_loopback
                                   ? std::vector<uint8_t>{0x30, 0x06, 0x87, 0x04, 127, 0, 0, 1}
                                   : std::vector<uint8_t>{0x30, 0x10, 0x82, 0x0e, 'b', 'r', 'o', 'k', 'e', 'r', '.',
                                                          'e', 'x', 'a', 'm', 'p', 'l', 'e'};
  X509Ptr server = make_certificate({names_loopback ? "127.0.0.1" : "broker.example", from, to, false,
                                     {{"2.5.29.17", names}}},
                                    server_key.get(), intermediate.get(), intermediate_key.get());

  TlsServerFiles files{dir / "tls-ca.pem", dir / "tls-chain.pem", dir / "tls-key.pem"};
  write_file_atomic(files.ca, certificate_pem(root.get()), 0644);
  std::vector<uint8_t> chain = certificate_pem(server.get());
  std::vector<uint8_t> intermediate_pem = certificate_pem(intermediate.get());
  chain.insert(chain.end(), intermediate_pem.begin(), intermediate_pem.end());
  write_file_atomic(files.chain, chain, 0644);
  write_file_atomic(files.key, private_key_pem(server_key.get()), 0600);
  return files;
}

std::vector<uint8_t> read_vector(const std::filesystem::path& path) { return read_file(vectors_dir() / path, 16 << 20); }

std::filesystem::path vectors_dir() { return SHELTER_VECTORS_DIR; }

}  // namespace shelter::attest::testing
