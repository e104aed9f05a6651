#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A closed-loop HTTP/1.1 load generator: `connections` keep-alive sockets spread over a few
/// threads, each thread driving its sockets with poll(2), one request in flight per socket.
///
/// Raw sockets on purpose: URLSession on Linux costs more CPU per request than the servers
/// being measured, which would make the load generator the bottleneck on a 2-core machine.
struct LoadGenerator {
    var port: Int
    var connections: Int
    var threads: Int

    /// What a run measured inside its measuring window (warm-up excluded).
    struct Outcome: Sendable {
        var completed = 0
        var non2xx = 0
        var socketErrors = 0
        /// Every answer, warm-up and drain included (to share out the server's CPU time).
        var answeredAll = 0
        var seconds: Double = 0
        /// Per-request latency in microseconds, unsorted.
        var latencies: [UInt32] = []

        var perSecond: Double { seconds > 0 ? Double(completed) / seconds : 0 }
        /// The `p` quantile of `values` (nearest rank).
        static func percentile(_ values: [Double], _ p: Double) -> Double {
            guard !values.isEmpty else { return 0 }
            let sorted = values.sorted()
            return sorted[max(0, min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
        }

        /// The `p` quantile of the latencies, in milliseconds.
        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            let sorted = latencies.sorted()
            let index = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)
            return Double(sorted[max(0, index)]) / 1000
        }
    }

    /// Sends requests from `feed` for `warmUp` + `duration` seconds (or until the feed runs dry)
    /// and counts the answers that arrive inside the measuring window.
    func run(feed: RequestFeed, warmUp: Double, duration: Double) -> Outcome {
        let start = Clock.nanos()
        let window = (start + UInt64(warmUp * 1e9), start + UInt64((warmUp + duration) * 1e9))
        let results = Mutex<[Outcome]>([])
        let done = DispatchGroup()
        let perThread = (0..<threads).map { t in connections / threads + (t < connections % threads ? 1 : 0) }
        for count in perThread where count > 0 {
            done.enter()
            let port = port
            let thread = Thread {
                var worker = Worker(port: port, connections: count, feed: feed, window: window)
                let outcome = worker.run()
                results.withLock { $0.append(outcome) }
                done.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        done.wait()
        var total = Outcome()
        let finished = results.withLock { $0 }
        for part in finished {
            total.completed += part.completed
            total.non2xx += part.non2xx
            total.socketErrors += part.socketErrors
            total.answeredAll += part.answeredAll
            total.latencies += part.latencies
        }
        total.seconds = finished.map(\.seconds).max() ?? duration
        return total
    }

    enum Clock {
        static func nanos() -> UInt64 {
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
        }
    }

    /// One thread's sockets.
    private struct Worker {
        let port: Int
        let feed: RequestFeed
        let window: (start: UInt64, end: UInt64)
        var sockets: [Socket] = []
        var outcome = Outcome()
        var lastAnswerAt: UInt64 = 0
        var ranDry = false

        init(port: Int, connections: Int, feed: RequestFeed, window: (UInt64, UInt64)) {
            self.port = port
            self.feed = feed
            self.window = window
            for _ in 0..<connections {
                if let socket = Socket.connect(port: port) { sockets.append(socket) } else { outcome.socketErrors += 1 }
            }
            outcome.latencies.reserveCapacity(200_000)
        }

        mutating func run() -> Outcome {
            for index in sockets.indices { send(index) }
            var scratch = [UInt8](repeating: 0, count: 1 << 16)
            var polled = [pollfd]()
            let drainDeadline = window.end + 3_000_000_000
            while sockets.contains(where: { $0.busy }) && Clock.nanos() < drainDeadline {
                polled.removeAll(keepingCapacity: true)
                for socket in sockets {
                    let events = socket.busy ? Int16(POLLIN) | (socket.watchingOutput ? Int16(POLLOUT) : 0) : 0
                    polled.append(pollfd(fd: socket.busy ? socket.fd : -1, events: events, revents: 0))
                }
                let ready = poll(&polled, nfds_t(polled.count), 100)
                guard ready > 0 else { continue }
                for index in polled.indices where polled[index].revents != 0 {
                    let revents = polled[index].revents
                    if revents & Int16(POLLOUT) != 0 { flush(index) }
                    if revents & (Int16(POLLIN) | Int16(POLLHUP) | Int16(POLLERR)) != 0 { read(index, &scratch) }
                }
            }
            for socket in sockets { close(socket.fd) }
            // Ran dry before the window closed: the rate is over the time up to the last answer.
            outcome.seconds = ranDry && lastAnswerAt > window.start
                ? Double(lastAnswerAt - window.start) / 1e9 : Double(window.end - window.start) / 1e9
            return outcome
        }

        private mutating func send(_ index: Int) {
            guard Clock.nanos() < window.end, let request = feed.next() else {
                if Clock.nanos() < window.end { ranDry = true }
                sockets[index].busy = false
                return
            }
            sockets[index].out = request
            sockets[index].written = 0
            sockets[index].sentAt = Clock.nanos()
            sockets[index].busy = true
            flush(index)
        }

        private mutating func flush(_ index: Int) {
            let fd = sockets[index].fd
            while sockets[index].written < sockets[index].out.count {
                let n = sockets[index].out.withUnsafeBytes { bytes in
                    write(fd, bytes.baseAddress! + sockets[index].written, bytes.count - sockets[index].written)
                }
                if n > 0 { sockets[index].written += n; continue }
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    watch(index, output: true)
                    return
                }
                fail(index)
                return
            }
            if sockets[index].watchingOutput { watch(index, output: false) }
        }

        private mutating func watch(_ index: Int, output: Bool) {
            sockets[index].watchingOutput = output
        }

        private mutating func read(_ index: Int, _ scratch: inout [UInt8]) {
            let fd = sockets[index].fd
            while true {
                let n = scratch.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
                if n > 0 {
                    sockets[index].input.append(contentsOf: scratch[0..<n])
                    if n < scratch.count { break }
                    continue
                }
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
                fail(index)
                return
            }
            guard sockets[index].busy, let status = HTTPResponseParser.complete(&sockets[index].input) else { return }
            let now = Clock.nanos()
            outcome.answeredAll += 1
            if sockets[index].sentAt >= window.start && now <= window.end {
                outcome.completed += 1
                if !(200..<300).contains(status) { outcome.non2xx += 1 }
                outcome.latencies.append(UInt32(min(UInt64(UInt32.max), (now - sockets[index].sentAt) / 1000)))
                lastAnswerAt = now
            }
            send(index)
        }

        /// A broken connection: counted, then replaced so the load stays the same.
        private mutating func fail(_ index: Int) {
            outcome.socketErrors += 1
            close(sockets[index].fd)
            guard let replacement = Socket.connect(port: port) else {
                sockets[index].busy = false
                sockets[index].fd = -1
                return
            }
            sockets[index] = replacement
            send(index)
        }
    }

    private struct Socket {
        var fd: Int32
        var out: [UInt8] = []
        var written = 0
        var input: [UInt8] = []
        var sentAt: UInt64 = 0
        var busy = false
        var watchingOutput = false

        /// A blocking connect to 127.0.0.1, then non-blocking with Nagle off.
        static func connect(port: Int) -> Socket? {
            guard let fd = connectLoopback(port: port) else { return nil }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            return Socket(fd: fd)
        }
    }
}

/// Where the requests come from: a fixed list handed out once each, or one request repeated.
final class RequestFeed: Sendable {
    private let requests: [[UInt8]]
    private let repeating: Bool
    private let cursor = Atomic<Int>(0)
    private let onHandOut: (@Sendable (Int) -> Void)?

    init(requests: [[UInt8]], repeating: Bool = false, onHandOut: (@Sendable (Int) -> Void)? = nil) {
        self.requests = requests
        self.repeating = repeating
        self.onHandOut = onHandOut
    }

    func next() -> [UInt8]? {
        let index = cursor.add(1, ordering: .relaxed).oldValue
        if repeating { return requests[index % requests.count] }
        guard index < requests.count else { return nil }
        onHandOut?(index)
        return requests[index]
    }

    var handedOut: Int { min(cursor.load(ordering: .relaxed), repeating ? Int.max : requests.count) }

    /// A raw HTTP/1.1 keep-alive request.
    static func request(method: String, path: String, headers: [(String, String)] = [], body: [UInt8] = []) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }
}

/// Finds the end of one HTTP/1.1 response (Content-Length or chunked) in a byte buffer.
enum HTTPResponseParser {
    /// If `buffer` starts with a complete response: removes it and returns its status code.
    static func complete(_ buffer: inout [UInt8]) -> Int? {
        guard let headEnd = find([13, 10, 13, 10], in: buffer, from: 0) else { return nil }
        let head = String(decoding: buffer[0..<headEnd], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.count >= 12,
              let status = Int(statusLine.dropFirst(9).prefix(3)) else { return nil }
        var length: Int?
        var chunked = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "content-length" { length = Int(value) }
            if name == "transfer-encoding" && value.lowercased().contains("chunked") { chunked = true }
        }
        let bodyStart = headEnd + 4
        if chunked {
            guard let end = find(Array("0\r\n\r\n".utf8), in: buffer, from: bodyStart) else { return nil }
            buffer.removeFirst(end + 5)
            return status
        }
        let total = bodyStart + (length ?? 0)
        guard buffer.count >= total else { return nil }
        buffer.removeFirst(total)
        return status
    }

    private static func find(_ needle: [UInt8], in buffer: [UInt8], from start: Int) -> Int? {
        guard buffer.count >= needle.count + start else { return nil }
        var i = start
        while i <= buffer.count - needle.count {
            if buffer[i] == needle[0] {
                var match = true
                for j in 1..<needle.count where buffer[i + j] != needle[j] { match = false; break }
                if match { return i }
            }
            i += 1
        }
        return nil
    }
}
