#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// An HTTP/1.1 load generator: `connections` keep-alive sockets spread over a few threads, each
/// thread driving its sockets with poll(2), one request in flight per socket.
///
/// Closed loop by default: each answer sends the next request, so the server runs flat out and
/// the latency includes waiting behind the other connections' requests. Given a `rate`, it is
/// open loop instead: requests are due at fixed intervals whatever the answers do, and one that
/// finds every connection busy is timed from the moment it was due (no coordinated omission: a
/// server that stalls is charged for the requests it held up).
///
/// Raw sockets on purpose: an HTTP client library costs more CPU per request than the
/// servers being measured, which would make the load generator the bottleneck on a 2-core machine.
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
    func run(feed: RequestFeed, warmUp: Double, duration: Double, rate: Double? = nil) -> Outcome {
        let start = Clock.nanos()
        let window = (start + UInt64(warmUp * 1e9), start + UInt64((warmUp + duration) * 1e9))
        let results = Mutex<[Outcome]>([])
        let done = DispatchGroup()
        let perThread = (0..<threads).map { t in connections / threads + (t < connections % threads ? 1 : 0) }
        for count in perThread where count > 0 {
            done.enter()
            let port = port
            let thread = Thread {
                // Each thread paces its share of the rate.
                let interval = rate.map { UInt64(1e9 / ($0 * Double(count) / Double(connections))) }
                var worker = Worker(port: port, connections: count, feed: feed, window: window, interval: interval)
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
        /// Open loop: nanoseconds between this thread's requests, and when the next one is due.
        let interval: UInt64?
        var nextDue: UInt64
        /// Due requests found every connection busy: they count from their due time.
        var heldBack = false
        var sockets: [Socket] = []
        var outcome = Outcome()
        var lastAnswerAt: UInt64 = 0
        var ranDry = false

        init(port: Int, connections: Int, feed: RequestFeed, window: (UInt64, UInt64), interval: UInt64?) {
            self.port = port
            self.feed = feed
            self.window = window
            self.interval = interval
            self.nextDue = Clock.nanos()
            for _ in 0..<connections {
                if let socket = Socket.connect(port: port) { sockets.append(socket) } else { outcome.socketErrors += 1 }
            }
            outcome.latencies.reserveCapacity(200_000)
        }

        /// Open loop and requests still to come.
        private var pacing: Bool { interval != nil && !ranDry && nextDue < window.end }

        mutating func run() -> Outcome {
            if interval == nil {
                for index in sockets.indices { send(index) }
            }
            var scratch = [UInt8](repeating: 0, count: 1 << 16)
            var polled = [pollfd]()
            let drainDeadline = window.end + 3_000_000_000
            while (pacing || sockets.contains(where: { $0.busy })) && Clock.nanos() < drainDeadline {
                sendDue()
                polled.removeAll(keepingCapacity: true)
                for socket in sockets {
                    let events = socket.busy ? Int16(POLLIN) | (socket.watchingOutput ? Int16(POLLOUT) : 0) : 0
                    polled.append(pollfd(fd: socket.busy ? socket.fd : -1, events: events, revents: 0))
                }
                // Sleep until an answer arrives or, when pacing with a connection idle, until the
                // next request is due (poll counts whole milliseconds: rounded up, so a request
                // may go out late by less than one; it is timed from when it went out, see `sendDue`).
                let wait = pacing && !heldBack ? min(100_000_000, nextDue - min(nextDue, Clock.nanos())) : 100_000_000
                let ready = poll(&polled, nfds_t(polled.count), Int32((wait + 999_999) / 1_000_000))
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

        /// Open loop: sends every request that is due, as far as idle connections allow. One
        /// that found every connection busy when it was due is timed from its due time; one
        /// that went out at the first chance is timed from then (its delay was the timer's).
        private mutating func sendDue() {
            guard let interval else { return }
            while pacing && nextDue <= Clock.nanos() {
                guard let idle = sockets.firstIndex(where: { !$0.busy && $0.fd >= 0 }) else {
                    heldBack = true
                    return
                }
                let due = nextDue
                nextDue += interval
                send(idle, dueAt: heldBack ? due : nil)
            }
            heldBack = false
        }

        private mutating func send(_ index: Int, dueAt: UInt64? = nil) {
            guard Clock.nanos() < window.end, let request = feed.next() else {
                if Clock.nanos() < window.end { ranDry = true }
                sockets[index].busy = false
                return
            }
            sockets[index].out = request
            sockets[index].written = 0
            sockets[index].sentAt = dueAt ?? Clock.nanos()
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
            if interval == nil {
                send(index)
            } else {
                sockets[index].busy = false
                sendDue()
            }
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
            if interval == nil { send(index) }
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
///
/// Works on the bytes, without building strings: the generator shares the cores with the
/// server it measures, so every microsecond it spends per answer is taken from the server.
enum HTTPResponseParser {
    /// If `buffer` starts with a complete response: removes it and returns its status code.
    static func complete(_ buffer: inout [UInt8]) -> Int? {
        guard let headEnd = find(crlf + crlf, in: buffer, from: 0) else { return nil }
        // "HTTP/1.1 200 …": three digits at offset 9.
        guard headEnd >= 12 else { return nil }
        var status = 0
        for offset in 9..<12 {
            let digit = buffer[offset] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            status = status * 10 + Int(digit)
        }
        var length = 0
        var chunked = false
        var lineStart = (find(crlf, in: buffer, from: 0) ?? headEnd) + 2
        while lineStart < headEnd {
            let lineEnd = find(crlf, in: buffer, from: lineStart) ?? headEnd
            if let colon = buffer[lineStart..<lineEnd].firstIndex(of: UInt8(ascii: ":")) {
                let name = buffer[lineStart..<colon]
                var valueStart = colon + 1
                while valueStart < lineEnd && (buffer[valueStart] == 32 || buffer[valueStart] == 9) { valueStart += 1 }
                let value = buffer[valueStart..<lineEnd]
                if equalsIgnoringCase(name, "content-length") {
                    length = value.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
                        .reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
                } else if equalsIgnoringCase(name, "transfer-encoding") {
                    chunked = find(Array("chunked".utf8), in: value.map(lowercased), from: 0) != nil
                }
            }
            lineStart = lineEnd + 2
        }
        let bodyStart = headEnd + 4
        if chunked {
            guard let end = find(Array("0\r\n\r\n".utf8), in: buffer, from: bodyStart) else { return nil }
            buffer.removeFirst(end + 5)
            return status
        }
        let total = bodyStart + length
        guard buffer.count >= total else { return nil }
        buffer.removeFirst(total)
        return status
    }

    private static let crlf: [UInt8] = [13, 10]

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    private static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ name: StaticString) -> Bool {
        guard bytes.count == name.utf8CodeUnitCount else { return false }
        return zip(bytes, UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)).allSatisfy { lowercased($0) == $1 }
    }

    private static func find<C: RandomAccessCollection>(_ needle: [UInt8], in buffer: C, from start: C.Index) -> C.Index? where C.Element == UInt8, C.Index == Int {
        guard buffer.endIndex - start >= needle.count else { return nil }
        var i = start
        while i <= buffer.endIndex - needle.count {
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
