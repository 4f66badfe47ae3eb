#if canImport(Glibc)
import Glibc
#endif
import Encoding

/// `GET http://127.0.0.1:port/path` with optional headers, over a plain socket: (status, body).
public func httpGet(port: Int, path: String, headers: [String: String] = [:]) throws -> (status: Int, body: String) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw StrataError.io(path: "socket", errno: errno, operation: "socket") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw StrataError.io(path: "127.0.0.1:\(port)", errno: errno, operation: "connect") }
    var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    for (name, value) in headers { request += "\(name): \(value)\r\n" }
    request += "\r\n"
    let bytes = Array(request.utf8)
    guard write(fd, bytes, bytes.count) == bytes.count else { throw StrataError.io(path: "socket", errno: errno, operation: "write") }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = read(fd, &buffer, buffer.count)
        if count <= 0 { break }
        response += buffer[0..<count]
    }
    let separator: [UInt8] = Array("\r\n\r\n".utf8)
    guard let headerEnd = (0..<max(response.count - 3, 0)).first(where: { Array(response[$0..<$0 + 4]) == separator }) else {
        throw StrataError.invalidArgument("malformed HTTP response: \(String(decoding: response, as: UTF8.self))")
    }
    let head = String(decoding: response[..<headerEnd], as: UTF8.self)
    let statusLine = head.split(separator: "\r\n").first ?? ""
    let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
    return (status, String(decoding: response[(headerEnd + 4)...], as: UTF8.self))
}
