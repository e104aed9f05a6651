/// Named values with typed access: an action's inputs or a connector's config.
/// `get` returns an optional; `require` throws an error that names the field.
public struct Fields: Sendable, Hashable {
    public var values: [String: Value]

    public init(_ values: [String: Value] = [:]) { self.values = values }

    public subscript(name: String) -> Value? { values[name].flatMap { $0.isNull ? nil : $0 } }

    public func get(_ name: String) -> String? {
        guard let v = self[name] else { return nil }
        return v.text
    }

    public func get(_ name: String, as: Int.Type) -> Int? { self[name]?.intValue }

    public func get(_ name: String, as: Double.Type) -> Double? {
        guard let v = self[name] else { return nil }
        return v.numberValue ?? Double(v.text)
    }

    public func get(_ name: String, as: Bool.Type) -> Bool? {
        switch self[name] {
        case .bool(let b): b
        case .string("true"): true
        case .string("false"): false
        case .number(let n): n != 0
        default: nil
        }
    }

    public func require(_ name: String, as: String.Type = String.self) throws(ConnectorError) -> String {
        guard let v = get(name), !v.isEmpty else { throw .missingField(name) }
        return v
    }

    public func require(_ name: String, as: Int.Type) throws(ConnectorError) -> Int {
        guard let v = get(name, as: Int.self) else { throw .missingField(name, expected: "a whole number") }
        return v
    }

    public func require(_ name: String, as: Double.Type) throws(ConnectorError) -> Double {
        guard let v = get(name, as: Double.self) else { throw .missingField(name, expected: "a number") }
        return v
    }
}
