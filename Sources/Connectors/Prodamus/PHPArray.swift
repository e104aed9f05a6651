/// A PHP array key. PHP stores a string key that is a canonical decimal integer
/// (`"0"`, `"17"`, `"-3"`; not `"01"`, `"-0"`, `"+1"`) as an integer key, and that
/// distinction changes both the key order of `ksort` and whether `json_encode` writes a list.
public enum PHPKey: Sendable, Hashable, CustomStringConvertible {
    case int(Int)
    case string(String)

    /// The key PHP would store for `text`: an integer key when `text` is a canonical
    /// decimal integer within `Int` range, otherwise the string itself.
    public init(_ text: String) {
        self = PHPKey.integer(text.utf8).map(PHPKey.int) ?? .string(text)
    }

    /// PHP keys are byte strings: compare UTF-8 bytes, not Swift's canonical equivalence
    /// (which would merge a precomposed "é" with "e" + U+0301 into one key).
    public static func == (lhs: PHPKey, rhs: PHPKey) -> Bool {
        switch (lhs, rhs) {
        case let (.int(a), .int(b)): a == b
        case let (.string(a), .string(b)): a.utf8.elementsEqual(b.utf8)
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .int(let value):
            hasher.combine(0)
            hasher.combine(value)
        case .string(let value):
            hasher.combine(1)
            PHPKey.hashBytes(of: value, into: &hasher)
        }
    }

    /// Hashes the UTF-8 bytes in one go (byte by byte was a hot spot of webhook intake).
    static func hashBytes(of text: String, into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        hasher.combine(text.utf8.count)
    }

    /// The key as PHP prints it: integers in decimal, strings as they are.
    public var description: String {
        switch self {
        case .int(let value): String(value)
        case .string(let value): value
        }
    }

    /// The same key with a numeric-looking `.string` turned into `.int`, as PHP does on insert.
    var normalized: PHPKey {
        if case .string(let text) = self { PHPKey(text) } else { self }
    }

    /// Port of `_zend_handle_numeric_str_ex`: optional `-`, no leading zero, at most
    /// 19 digits, within `Int` range.
    static func integer(_ bytes: some Collection<UInt8>) -> Int? {
        var iterator = bytes.makeIterator()
        guard var byte = iterator.next() else { return nil }
        let negative = byte == UInt8(ascii: "-")
        if negative {
            guard let next = iterator.next() else { return nil }
            byte = next
        }
        guard isDigit(byte), !(byte == UInt8(ascii: "0") && bytes.count > 1) else { return nil }
        var magnitude = UInt64(byte - UInt8(ascii: "0"))
        var digits = 1
        while let next = iterator.next() {
            digits += 1
            guard isDigit(next), digits <= 19 else { return nil }
            magnitude = magnitude * 10 + UInt64(next - UInt8(ascii: "0"))
        }
        if negative {
            guard magnitude <= UInt64(Int.max) + 1 else { return nil }
            return magnitude == UInt64(Int.max) + 1 ? Int.min : -Int(magnitude)
        }
        return magnitude <= UInt64(Int.max) ? Int(magnitude) : nil
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}

extension PHPKey: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    /// A literal key follows PHP literal semantics: `"0"` is the integer key 0.
    public init(stringLiteral value: String) { self.init(value) }

    public init(integerLiteral value: Int) { self = .int(value) }
}

/// PHP-style nested form data: every leaf is a string, every inner node a `PHPArray`.
/// Not `indirect`: `PHPArray` holds its values in an array already, and boxing every leaf
/// cost an allocation per form field.
public enum PHPValue: Sendable, Hashable {
    case string(String)
    case array(PHPArray)

    /// Byte-wise, like PHP `===`; see `PHPKey.==`.
    public static func == (lhs: PHPValue, rhs: PHPValue) -> Bool {
        switch (lhs, rhs) {
        case let (.string(a), .string(b)): a.utf8.elementsEqual(b.utf8)
        case let (.array(a), .array(b)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .string(let value):
            hasher.combine(0)
            PHPKey.hashBytes(of: value, into: &hasher)
        case .array(let value):
            hasher.combine(1)
            hasher.combine(value)
        }
    }

    /// The leaf string, or nil for an array.
    public var string: String? {
        if case .string(let value) = self { value } else { nil }
    }

    /// The nested array, or nil for a leaf.
    public var array: PHPArray? {
        if case .array(let value) = self { value } else { nil }
    }
}

extension PHPValue: ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }

    /// A PHP list: keys 0, 1, 2, … in order.
    public init(arrayLiteral elements: PHPValue...) {
        var array = PHPArray()
        for element in elements { array.append(element) }
        self = .array(array)
    }

    public init(dictionaryLiteral elements: (PHPKey, PHPValue)...) {
        self = .array(PHPArray(elements))
    }
}

/// An ordered PHP array: (key, value) pairs in insertion order, keys unique.
///
/// Equality compares the pairs in order, like PHP `===`. Integer keys never collide with
/// string keys: a `.string` key that is a canonical integer is stored as `.int`, as in PHP.
public struct PHPArray: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    /// One (key, value) pair.
    public struct Entry: Sendable, Hashable {
        public let key: PHPKey
        public internal(set) var value: PHPValue
    }

    /// The pairs in insertion order.
    public private(set) var entries: [Entry] = []
    private var positions: [PHPKey: Int] = [:]
    /// PHP's `nNextFreeElement`: one past the largest integer key ever inserted, so an
    /// append after removals or after negative keys lands where PHP 8.2 puts it.
    private var nextFreeIndex: Int?

    /// An empty array.
    public init() {}

    /// Pairs in order; a later duplicate key overwrites the earlier value in place, like a PHP literal.
    public init(_ pairs: some Sequence<(PHPKey, PHPValue)>) {
        for (key, value) in pairs { self[key] = value }
    }

    public init(dictionaryLiteral elements: (PHPKey, PHPValue)...) {
        self.init(elements)
    }

    /// Number of pairs.
    public var count: Int { entries.count }

    /// True when there are no pairs.
    public var isEmpty: Bool { entries.isEmpty }

    /// The keys in insertion order.
    public var keys: [PHPKey] { entries.map(\.key) }

    /// Reads, inserts (at the end), overwrites (in place) or, with nil, removes a value.
    public subscript(key: PHPKey) -> PHPValue? {
        get { positions[key.normalized].map { entries[$0].value } }
        set {
            let key = key.normalized
            if let newValue {
                update(newValue, for: key)
            } else {
                remove(key)
            }
        }
    }

    /// Stores under a key made by `PHPKey.init(_:)`, which is normalized already.
    mutating func set(_ value: PHPValue, normalizedKey key: PHPKey) {
        update(value, for: key)
    }

    /// Room for `count` pairs without growing.
    mutating func reserveCapacity(_ count: Int) {
        entries.reserveCapacity(count)
        positions.reserveCapacity(count)
    }

    /// Looks a value up the way PHP's `$a["…"]` does: `"0"` finds the integer key 0.
    public subscript(key: String) -> PHPValue? {
        self[PHPKey(key)]
    }

    /// The leaf string under `key`, or nil when it is missing or an array.
    public func string(_ key: String) -> String? {
        self[key]?.string
    }

    /// The nested array under `key`, or nil when it is missing or a leaf.
    public func array(_ key: String) -> PHPArray? {
        self[key]?.array
    }

    /// Appends like PHP `$a[] = value`, at one past the largest integer key ever used.
    /// Returns false, changing nothing, when PHP would refuse: that slot is `Int.max` and taken.
    @discardableResult
    public mutating func append(_ value: PHPValue) -> Bool {
        let key = PHPKey.int(nextFreeIndex ?? 0)
        guard positions[key] == nil else { return false }
        update(value, for: key)
        return true
    }

    public static func == (lhs: PHPArray, rhs: PHPArray) -> Bool {
        lhs.entries == rhs.entries
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries)
    }

    /// Changes the value under an existing key through a closure. Nested form parsing
    /// uses this so that the inner array is uniquely referenced while it is being edited.
    mutating func modifyValue(at key: PHPKey, _ body: (inout PHPValue) -> Void) {
        guard let position = positions[key.normalized] else { return }
        var value = entries[position].value
        entries[position].value = .string("")
        body(&value)
        entries[position].value = value
    }

    private mutating func update(_ value: PHPValue, for key: PHPKey) {
        // One hash for a new key, the common case; a repeated key puts its position back.
        if let position = positions.updateValue(entries.count, forKey: key) {
            positions[key] = position
            entries[position].value = value
            return
        }
        entries.append(Entry(key: key, value: value))
        if case .int(let index) = key, nextFreeIndex.map({ index >= $0 }) ?? true {
            nextFreeIndex = index == Int.max ? Int.max : index + 1
        }
    }

    private mutating func remove(_ key: PHPKey) {
        guard let position = positions.removeValue(forKey: key) else { return }
        entries.remove(at: position)
        for index in position..<entries.count { positions[entries[index].key] = index }
    }
}
