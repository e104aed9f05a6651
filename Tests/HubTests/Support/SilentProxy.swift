import Foundation
import Synchronization

/// A loopback TCP proxy that can fall silent, as a network dropping packets does: while silent it
/// takes bytes from both sides and passes none on, so nothing is refused and nothing is answered.
/// `restore()` cuts the connections that lived through the silence (as TCP at last gives up on
/// them) and passes new ones on again. Blocking sockets, a thread per direction: test traffic only.
final class SilentProxy: Sendable {
    let port: Int
    private let target: Int
    private let listener: Int32
    private let state = Mutex<(silent: Bool, stopped: Bool, sockets: Set<Int32>)>((false, false, []))

    init(target: Int) throws {
        self.target = target
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = SilentProxy.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else {
            close(listener)
            throw HubProcessError(message: "the proxy cannot listen: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in acceptLoop() }.start()
    }

    /// From now on nothing passes, either way.
    func silence() { state.withLock { $0.silent = true } }

    /// Cuts every connection made so far; later ones pass normally.
    func restore() {
        // Under the lock: a socket is closed only once it left the set, so no number here is reused yet.
        state.withLock { state in
            state.silent = false
            for socket in state.sockets { shutdown(socket, Int32(SHUT_RDWR)) }
        }
    }

    /// Stops listening and cuts every connection.
    func stop() {
        state.withLock { $0.stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        restore()
    }

    private func acceptLoop() {
        defer { close(listener) }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = SilentProxy.loopback(port: target)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            let kept = state.withLock { state -> Bool in
                guard connected == 0, !state.stopped else { return false }
                state.sockets.formUnion([client, server])
                return true
            }
            guard kept else {
                close(client)
                close(server)
                continue
            }
            // Both directions end when either side closes; then the sockets are closed.
            let directions = DispatchGroup()
            for (from, to) in [(client, server), (server, client)] {
                directions.enter()
                Thread { [self] in
                    pump(from: from, to: to)
                    directions.leave()
                }.start()
            }
            directions.notify(queue: .global()) { [self] in
                state.withLock { $0.sockets.subtract([client, server]) }
                close(client)
                close(server)
            }
        }
    }

    private func pump(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        defer { shutdown(to, Int32(SHUT_RDWR)) }
        while true {
            let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            if state.withLock({ $0.silent }) { continue }
            var sent = 0
            while sent < count {
                let written = buffer[sent..<count].withUnsafeBytes { write(to, $0.baseAddress, $0.count) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                sent += written
            }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
