import CCurl
import Foundation
import Synchronization

/// One call on its way: owned by the engine's thread from `start` on.
final class CurlTransfer: @unchecked Sendable {
    let request: HTTPClientRequest
    let host: String
    var continuation: CheckedContinuation<HTTPClientResponse, any Error>?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    var tooLarge = false
    /// A cancel that arrived before its start.
    var cancelled = false
    var finished = false

    init(_ request: HTTPClientRequest, host: String) {
        self.request = request
        self.host = host
    }

    func resume(_ result: Result<HTTPClientResponse, any Error>) {
        finished = true
        continuation?.resume(with: result)
        continuation = nil
    }
}

/// The multi handle and the thread that drives it. Every curl call happens on that thread;
/// other threads only append to the inbox and wake it (`curl_multi_wakeup` is thread-safe).
final class CurlEngine: @unchecked Sendable {
    enum Command { case start(CurlTransfer), cancel(CurlTransfer) }

    static let shared = CurlEngine()
    /// Bodies beyond this are refused rather than held in memory: no API the hub calls answers more.
    static let maximumResponseBytes = 32 << 20
    /// curl takes `https_proxy` and the like from the environment for every host, loopback too,
    /// where no proxy can reach this machine's services (the sandbox's emulators among them).
    /// So unless the environment has a `no_proxy` of its own, loopback goes direct.
    static let loopbackWithoutProxy: String? = {
        let environment = ProcessInfo.processInfo.environment
        return (environment["no_proxy"] ?? environment["NO_PROXY"]) == nil ? "localhost,127.0.0.1,::1" : nil
    }()

    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex<[Command]>([])
    // The engine thread's own state.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var spareHandles: [UnsafeMutableRawPointer] = []

    private init() {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        multi = curl_multi_init()
        // Like a browser, a few connections per service; more calls queue inside curl.
        hub_curl_multi_set_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 16)
        hub_curl_multi_set_long(multi, CURLMOPT_MAXCONNECTS, 64)
        let thread = Thread { [self] in run() }
        thread.name = "hub-http-client"
        thread.start()
    }

    func submit(_ command: Command) {
        inbox.withLock { $0.append(command) }
        curl_multi_wakeup(multi)
    }

    private func run() {
        var commands: [Command] = []
        var running: Int32 = 0
        var queued: Int32 = 0
        while true {
            inbox.withLock { swap(&$0, &commands) }
            for command in commands {
                switch command {
                case .start(let transfer): start(transfer)
                case .cancel(let transfer): cancel(transfer)
                }
            }
            commands.removeAll(keepingCapacity: true)
            curl_multi_perform(multi, &running)
            while let message = curl_multi_info_read(multi, &queued) {
                if message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle {
                    finish(handle, code: message.pointee.data.result)
                }
            }
            // Sleeps until a socket is ready, curl's next timeout, or a wake-up from submit.
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }

    private func start(_ transfer: CurlTransfer) {
        if transfer.cancelled { return transfer.resume(.failure(CancellationError())) }
        guard let handle = spareHandles.popLast() ?? curl_easy_init() else {
            return transfer.resume(.failure(ConnectorError(code: "network", "cannot reach \(transfer.host): out of memory")))
        }
        configure(handle, for: transfer)
        active[handle] = transfer
        curl_multi_add_handle(multi, handle)
    }

    private func cancel(_ transfer: CurlTransfer) {
        guard !transfer.finished else { return }
        guard let handle = active.first(where: { $0.value === transfer })?.key else {
            transfer.cancelled = true
            return
        }
        release(handle)
        transfer.resume(.failure(CancellationError()))
    }

    private func finish(_ handle: UnsafeMutableRawPointer, code: CURLcode) {
        guard let transfer = active[handle] else { return }
        var status = 0
        hub_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &status)
        release(handle)
        if code == CURLE_OK {
            transfer.resume(.success(HTTPClientResponse(status: status, headers: transfer.headers, body: transfer.body)))
        } else if transfer.tooLarge {
            // Asking again would get the same answer.
            transfer.resume(.failure(ConnectorError.permanent("response-too-large",
                                                              "\(transfer.host) answered more than \(Self.maximumResponseBytes >> 20) MB")))
        } else {
            // The message names only the host, never the path: bot tokens live in Telegram paths.
            transfer.resume(.failure(ConnectorError(code: "network", "cannot reach \(transfer.host): \(String(cString: curl_easy_strerror(code)))")))
        }
    }

    /// Takes the handle out of the multi and keeps it for the next call: a reset handle keeps
    /// nothing of the call, while the multi keeps the connections open for reuse.
    private func release(_ handle: UnsafeMutableRawPointer) {
        curl_multi_remove_handle(multi, handle)
        if let transfer = active.removeValue(forKey: handle) {
            curl_slist_free_all(transfer.headerList)
            transfer.headerList = nil
        }
        curl_easy_reset(handle)
        if spareHandles.count < 64 { spareHandles.append(handle) } else { curl_easy_cleanup(handle) }
    }

    private func configure(_ handle: UnsafeMutableRawPointer, for transfer: CurlTransfer) {
        let request = transfer.request
        hub_curl_set_pointer(handle, CURLOPT_URL, request.url)
        hub_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
        if let loopback = Self.loopbackWithoutProxy { hub_curl_set_pointer(handle, CURLOPT_NOPROXY, loopback) }
        // Never file://, ftp:// or the like, neither asked for nor through a redirect.
        hub_curl_set_pointer(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        hub_curl_set_pointer(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        // Only a GET follows redirects: on a 301 or 302 curl re-sends a POST as a GET without its
        // body, which the API answers 200 and the caller takes for done. Others see the 3xx.
        let method = request.method.uppercased()
        hub_curl_set_long(handle, CURLOPT_FOLLOWLOCATION, request.followsRedirects && (method == "GET" || method == "HEAD") ? 1 : 0)
        hub_curl_set_long(handle, CURLOPT_MAXREDIRS, 10)
        hub_curl_set_pointer(handle, CURLOPT_ACCEPT_ENCODING, "")
        hub_curl_set_pointer(handle, CURLOPT_USERAGENT, "session-hub")
        hub_curl_set_long(handle, CURLOPT_TIMEOUT_MS, max(1, Int(request.timeout.milliseconds)))

        switch method {
        case "GET" where request.body.isEmpty:
            hub_curl_set_long(handle, CURLOPT_HTTPGET, 1)
        case "HEAD":
            hub_curl_set_long(handle, CURLOPT_NOBODY, 1)
        default:
            hub_curl_set_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
            request.body.withUnsafeBytes { _ = hub_curl_set_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress ?? UnsafeRawPointer(("" as StaticString).utf8Start)) }
            if method != "POST" { hub_curl_set_pointer(handle, CURLOPT_CUSTOMREQUEST, method) }
        }

        // "Expect:" keeps curl from waiting for a 100 Continue before larger bodies.
        var list: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Expect:")
        for (name, value) in request.headers { list = curl_slist_append(list, "\(name): \(value)") }
        transfer.headerList = list
        hub_curl_set_pointer(handle, CURLOPT_HTTPHEADER, list)

        let user = Unmanaged.passUnretained(transfer).toOpaque()
        hub_curl_set_callback(handle, CURLOPT_WRITEFUNCTION, receiveBody)
        hub_curl_set_pointer(handle, CURLOPT_WRITEDATA, user)
        hub_curl_set_callback(handle, CURLOPT_HEADERFUNCTION, receiveHeader)
        hub_curl_set_pointer(handle, CURLOPT_HEADERDATA, user)
    }
}

private let receiveBody: hub_curl_data_callback = { data, size, count, user in
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
    guard transfer.body.count + bytes.count <= CurlEngine.maximumResponseBytes else {
        transfer.tooLarge = true
        return 0  // curl stops the transfer with a write error
    }
    transfer.body.append(contentsOf: bytes)
    return bytes.count
}

/// Called with each header line, the status line included; names are stored lowercased and a
/// repeated header is joined with ", " as URLSession did. A new status line (after a redirect)
/// starts the set over.
private let receiveHeader: hub_curl_data_callback = { data, size, count, user in
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
    let line = UnsafeRawBufferPointer(start: data, count: size * count)
    if line.starts(with: "HTTP/".utf8) {
        transfer.headers.removeAll()
    } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
        let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
        let value = String(decoding: trimmed(line[(colon + 1)...]), as: UTF8.self)
        if let earlier = transfer.headers[name] { transfer.headers[name] = earlier + ", " + value } else { transfer.headers[name] = value }
    }
    return line.count
}

/// The bytes without the spaces, tabs and CR LF around them. Not Foundation's trimming (bridged
/// through NSString, 2 % of the hub's CPU end to end) nor `String.trimmed`, which walks
/// Characters: in three alternating pairs it cost the client 45–65 µs a call against 35–45.
private func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
    let blank: (UInt8) -> Bool = { $0 == 32 || $0 == 9 || $0 == 13 || $0 == 10 }
    guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) }) else { return bytes[bytes.startIndex..<bytes.startIndex] }
    return bytes[first...last]
}
