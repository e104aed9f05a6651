import Flows

/// Nested PHP form data as the emulated payment page holds it, with PHP's `Hmac::create`.
///
/// This is the emulator's own implementation, written apart from the connector's
/// (`PHPForm`, `ProdamusSignature`): the emulator plays Prodamus' PHP side, so a test that
/// runs both checks one implementation against the other. It covers what links and
/// notifications use (string keys, list indexes, `[]`) and PHP's input limits, not every
/// corner of PHP's parser.
struct ProdamusEmulatorForm: Sendable, Equatable {
    /// PHP's `max_input_vars` default: `$_GET` keeps the first 1000 pairs.
    static let maxInputVars = 1000
    /// PHP's `max_input_nesting_level` default: a name with more brackets is dropped.
    static let maxNestingLevel = 64

    /// One value: text or a nested form.
    indirect enum Node: Sendable, Equatable {
        case text(String)
        case form(ProdamusEmulatorForm)
    }

    /// (key, value) pairs in insertion order; a key occurs once.
    private(set) var entries: [(key: String, value: Node)] = []
    /// PHP's `nNextFreeElement`: one past the largest integer key so far, stuck at `Int.max`.
    private var nextFreeIndex: Int?

    init() {}

    init(_ entries: [(String, Node)]) {
        for (key, value) in entries { self[key] = value }
    }

    static func == (lhs: ProdamusEmulatorForm, rhs: ProdamusEmulatorForm) -> Bool {
        lhs.entries.count == rhs.entries.count && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    subscript(key: String) -> Node? {
        get { entries.first { $0.key == key }?.value }
        set {
            let index = entries.firstIndex { $0.key == key }
            switch (index, newValue) {
            case let (index?, value?): entries[index].value = value
            case let (nil, value?):
                entries.append((key, value))
                if let index = Self.integer(key), nextFreeIndex.map({ index >= $0 }) ?? true {
                    nextFreeIndex = index == Int.max ? Int.max : index + 1
                }
            case let (index?, nil): entries.remove(at: index)
            case (nil, nil): break
            }
        }
    }

    func text(_ key: String) -> String? {
        if case .text(let value)? = self[key] { value } else { nil }
    }

    func form(_ key: String) -> ProdamusEmulatorForm? {
        if case .form(let value)? = self[key] { value } else { nil }
    }

    /// The key PHP's `$a[] = …` would use: one past the largest integer key, or 0. Nil once
    /// `Int.max` is taken: PHP then skips the append ("the next element is already occupied").
    private var nextIndex: String? {
        let key = String(nextFreeIndex ?? 0)
        return self[key] == nil ? key : nil
    }

    // MARK: - Query strings

    /// Decodes `a=1&products[0][name]=x` the way PHP fills `$_GET`: empty segments are skipped,
    /// pairs after the first `maxInputVars` are ignored, and a name nested deeper than
    /// `maxNestingLevel` removes its whole top-level variable. These limits also keep a hostile
    /// link from costing the page quadratic time or a recursion without end.
    static func parse(query: String) -> ProdamusEmulatorForm {
        var form = ProdamusEmulatorForm()
        let segments = query.split(separator: "&", maxSplits: maxInputVars, omittingEmptySubsequences: true)
        for segment in segments.prefix(maxInputVars) {
            let parts = segment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecode(parts[0])
            let value = parts.count > 1 ? percentDecode(parts[1]) : ""
            switch path(of: name) {
            case .path(let path): form.insert(value, at: path[...])
            case .tooDeep(let variable): form[variable] = nil
            case nil: continue
            }
        }
        return form
    }

    /// A variable name as `php_register_variable_ex` reads it.
    private enum Name {
        /// `products[0][name]` → ["products", "0", "name"]; `a[]` ends in "" (append).
        case path([String])
        /// More brackets than `maxNestingLevel`: PHP deletes this top-level variable.
        case tooDeep(String)
    }

    /// Nil for a name PHP skips (empty before the first bracket).
    private static func path(of name: String) -> Name? {
        guard let open = name.firstIndex(of: "[") else { return name.isEmpty ? nil : .path([name]) }
        let variable = String(name[..<open])
        guard !variable.isEmpty else { return nil }
        var path = [variable]
        var rest = name[open...]
        while rest.first == "[" {
            // PHP counts a level before it looks for the `]`, so an unclosed last bracket counts too.
            guard path.count <= maxNestingLevel else { return .tooDeep(variable) }
            guard let close = rest.firstIndex(of: "]") else { break }
            let key = rest[rest.index(after: rest.startIndex)..<close]
            // `a[ ]` appends like `a[]`.
            path.append(key == " " ? "" : String(key))
            rest = rest[rest.index(after: close)...]
        }
        return .path(path)
    }

    /// Stores `value` at `path`; false, changing nothing, when PHP drops the variable because an
    /// append on the way has no free index.
    @discardableResult
    private mutating func insert(_ value: String, at path: ArraySlice<String>) -> Bool {
        guard let first = path.first, let key = first.isEmpty ? nextIndex : first else { return false }
        if path.count == 1 {
            self[key] = .text(value)
            return true
        }
        var inner = form(key) ?? ProdamusEmulatorForm()
        guard inner.insert(value, at: path.dropFirst()) else { return false }
        self[key] = .form(inner)
        return true
    }

    private static func percentDecode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), input.count >= 2,
                      let value = UInt8(String(decoding: input.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                input = input.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// PHP `http_build_query`: RFC 1738 escaping, brackets as `%5B`/`%5D`, insertion order.
    var query: String {
        var pairs: [String] = []
        appendPairs(prefix: nil, to: &pairs)
        return pairs.joined(separator: "&")
    }

    private func appendPairs(prefix: String?, to pairs: inout [String]) {
        for (key, value) in entries {
            let name = prefix.map { "\($0)%5B\(Self.urlencode(key))%5D" } ?? Self.urlencode(key)
            switch value {
            case .text(let text): pairs.append("\(name)=\(Self.urlencode(text))")
            case .form(let inner): inner.appendPairs(prefix: name, to: &pairs)
            }
        }
    }

    /// PHP `urlencode`: only `A-Z a-z 0-9 - . _` stay, space is `+`.
    static func urlencode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out += "+"
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    // MARK: - Hmac::create

    /// `Hmac::create($data, $key)`: recursive `ksort`, `json_encode(…, JSON_UNESCAPED_UNICODE)`
    /// (which writes `/` as `\/`), HMAC-SHA256 as lowercase hex.
    func signature(secret: String) -> String {
        Crypto.hex(Crypto.hmacSHA256(key: Array(secret.utf8), message: Array(json.utf8)))
    }

    /// `Hmac::verify`: case-insensitive, constant time.
    func verify(signature: String, secret: String) -> Bool {
        Crypto.constantTimeEquals(Array(self.signature(secret: secret).utf8), Array(signature.lowercased().utf8))
    }

    /// The canonical JSON Prodamus signs.
    var json: String {
        let sorted = entries.sorted { Self.precedes($0.key, $1.key) }
        let isList = sorted.enumerated().allSatisfy { String($0.offset) == $0.element.key }
        let items = sorted.map { entry -> String in
            let value = switch entry.value {
            case .text(let text): Self.jsonString(text)
            case .form(let inner): inner.json
            }
            return isList ? value : Self.jsonString(entry.key) + ":" + value
        }
        return isList ? "[" + items.joined(separator: ",") + "]" : "{" + items.joined(separator: ",") + "}"
    }

    /// `ksort` order for link and notification keys: integer keys numerically, other keys by bytes.
    private static func precedes(_ a: String, _ b: String) -> Bool {
        if let x = integer(a), let y = integer(b) { return x < y }
        return Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
    }

    /// A key PHP stores as an integer: canonical decimal, no leading zeros.
    private static func integer(_ key: String) -> Int? {
        guard let value = Int(key), String(value) == key else { return nil }
        return value
    }

    private static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "/": out += "\\/"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}", "\u{2029}": out += "\\u" + String(scalar.value, radix: 16)
            case _ where scalar.value < 0x20: out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
