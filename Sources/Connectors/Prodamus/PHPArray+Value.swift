import Flows

extension PHPArray {
    /// The data as a flow value: an array whose keys are all integers (`products`) becomes a
    /// list in key order, any other array an object; leaves stay strings, as Prodamus sent them.
    public var flowValue: Value {
        if !isEmpty, entries.allSatisfy({ if case .int = $0.key { true } else { false } }) {
            let sorted = entries.sorted { lhs, rhs in
                if case .int(let a) = lhs.key, case .int(let b) = rhs.key { return a < b }
                return false
            }
            return .array(sorted.map(\.value.flowValue))
        }
        var object: [String: Value] = [:]
        object.reserveCapacity(entries.count)
        for entry in entries { object[entry.key.description] = entry.value.flowValue }
        return .object(object)
    }
}

extension PHPValue {
    /// See `PHPArray.flowValue`.
    public var flowValue: Value {
        switch self {
        case .string(let text): .string(text)
        case .array(let array): array.flowValue
        }
    }
}
