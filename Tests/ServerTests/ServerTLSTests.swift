import Engine
import GRPCCore
import Server
import StrataTestSupport
import Testing
import VFS

/// TLS: with a certificate and key the server speaks only TLS; a client trusting the
/// certificate connects, a plaintext one cannot.
@Suite struct ServerTLSTests {
    @Test func aTLSServerServesTLSClientsOnly() async throws {
        let directory = try TemporaryDirectory(prefix: "strata-tls")
        defer { withExtendedLifetime(directory) {} }  // the directory is removed when released
        let key = directory.path + "/key.pem"
        let certificate = directory.path + "/cert.pem"
        // A self-signed certificate for 127.0.0.1 (openssl is installed by `make deps`).
        let openssl = try ChildProcess("/usr/bin/env", [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ]).finish(timeout: 60)
        try #require(openssl.status == 0, "openssl: \(openssl.errors)")
        try await withServer({ $0.tlsCert = certificate; $0.tlsKey = key }) { server in
            var secure = server.client()
            secure.tls = true
            secure.tlsTrustRootsFile = certificate
            try await StrataClient.withClient(secure) { client in
                try await client.put("k", "over TLS")
                #expect(try await client.get("k") == Array("over TLS".utf8))
            }
            var plain = server.client()
            plain.timeout = .seconds(3)
            let code = await statusCode {
                try await StrataClient.withClient(plain) { client in _ = try await client.get("k") }
            }
            #expect(code == .unavailable || code == .deadlineExceeded)
            // A client that does not trust the certificate is refused too.
            var untrusting = server.client()
            untrusting.tls = true
            untrusting.timeout = .seconds(3)
            let untrusted = await statusCode {
                try await StrataClient.withClient(untrusting) { client in _ = try await client.get("k") }
            }
            #expect(untrusted == .unavailable || untrusted == .deadlineExceeded)
        }
    }
}
