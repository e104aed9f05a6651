import Dispatch
import Foundation

/// A bare-socket HTTP/1.1 client for requests no well-behaved client sends (truncated bodies,
/// huge headers, bytes dribbled slowly) and for servers URLSession cannot read (chromedriver).
/// Blocking calls run on a Dispatch thread.
enum RawHTTP {
    struct Answer: Sendable {
        /// The status of the first response line; nil when the server closed without answering.
        var status: Int?
        var text: String
    }

    /// Sends `head` (request line and headers, CRLF-terminated, without the blank line) and
    /// `body` in `chunks` pieces with `pause` between them, optionally stopping after `sendOnly`
    /// bytes of the body (and then closing its side of the connection, unless `stall` keeps it
    /// open, a client that stopped sending without going away), then reads one answer: up to its
    /// Content-Length, until the server closes, or until `timeout` passes.
    static func exchange(port: Int, head: String, body: [UInt8] = [], chunks: Int = 1, pause: Duration = .zero,
                         sendOnly: Int? = nil, stall: Bool = false, timeout: Duration = .seconds(10)) async -> Answer {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: blockingExchange(port: port, head: head, body: body, chunks: chunks, pause: pause,
                                                                sendOnly: sendOnly, stall: stall, timeout: timeout))
            }
        }
    }

    private static func blockingExchange(port: Int, head: String, body: [UInt8], chunks: Int, pause: Duration,
                                         sendOnly: Int?, stall: Bool, timeout: Duration) -> Answer {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return Answer(status: nil, text: "socket failed") }
        defer { close(fd) }
        var seconds = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return Answer(status: nil, text: "connect failed") }
        // Like curl, stop sending as soon as the server answers (a 413 comes before the body is read).
        var answered = false
        if !sendAll(fd, Array((head + "\r\n").utf8), watch: &answered) { answered = true }
        let toSend = Array(body.prefix(sendOnly ?? body.count))
        let size = max(1, (toSend.count + chunks - 1) / max(1, chunks))
        var offset = 0
        while offset < toSend.count && !answered {
            let end = min(offset + size, toSend.count)
            guard sendAll(fd, Array(toSend[offset..<end]), watch: &answered) else { break }
            offset = end
            if pause > .zero && offset < toSend.count { Thread.sleep(forTimeInterval: Double(pause.components.attoseconds) / 1e18 + Double(pause.components.seconds)) }
        }
        if sendOnly != nil && !stall { shutdown(fd, Int32(SHUT_WR)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while received.count < 1 << 20 {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received += buffer[0..<n]
            // One response is enough: stop once its head and declared body are in.
            if let text = String(bytes: received, encoding: .utf8), let end = text.range(of: "\r\n\r\n") {
                let length = text[..<end.lowerBound].split(separator: "\r\n")
                    .first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if text.utf8.distance(from: end.upperBound.samePosition(in: text.utf8)!, to: text.utf8.endIndex) >= length { break }
            }
        }
        let text = String(decoding: received, as: UTF8.self)
        let status = text.hasPrefix("HTTP/1.") ? text.split(separator: " ").dropFirst().first.flatMap { Int($0) } : nil
        return Answer(status: status, text: text)
    }

    /// Writes `bytes` unless the server starts answering first (then sets `answered`); false on a write error.
    private static func sendAll(_ fd: Int32, _ bytes: [UInt8], watch answered: inout Bool) -> Bool {
        var offset = 0
        while offset < bytes.count {
            var events = pollfd(fd: fd, events: Int16(POLLIN | POLLOUT), revents: 0)
            guard poll(&events, 1, 10_000) > 0 else { return false }
            if events.revents & Int16(POLLIN) != 0 {
                answered = true
                return true
            }
            if events.revents & Int16(POLLERR | POLLHUP) != 0 { return false }
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, min($0.count, 1 << 16), Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}
