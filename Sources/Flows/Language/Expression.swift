/// A parsed `{{ … }}` expression or `if:` condition. Nothing here executes code:
/// expressions read paths, compare values and apply a fixed set of filters.
public indirect enum Expression: Sendable, Hashable {
    case literal(Value)
    /// A dotted path such as `event.order_num` or `member['telegram_id']`; `offsets` locates each
    /// part in the text (the name, or the bracket of an index), so a diagnostic points at the part.
    case path([String], offsets: [Int])
    case not(Expression)
    case binary(BinaryOperator, Expression, Expression)
    case filter(Expression, name: String, arguments: [Expression], offset: Int)

    public enum BinaryOperator: String, Sendable, Hashable, CaseIterable {
        case or, and
        case equal = "==", notEqual = "!=", less = "<", greater = ">", lessOrEqual = "<=", greaterOrEqual = ">="
        case `in`, contains
    }

    /// Every path the expression reads, with the offset of each part in the source text.
    public var paths: [(path: [String], offsets: [Int])] {
        switch self {
        case .literal: []
        case .path(let p, let offsets): [(p, offsets)]
        case .not(let e): e.paths
        case .binary(_, let l, let r): l.paths + r.paths
        case .filter(let e, _, let args, _): e.paths + args.flatMap(\.paths)
        }
    }

    /// Every filter the expression applies, with its arguments and offset.
    public var filters: [(name: String, arguments: [Expression], offset: Int)] {
        switch self {
        case .literal, .path: []
        case .not(let e): e.filters
        case .binary(_, let l, let r): l.filters + r.filters
        case .filter(let e, let name, let args, let offset): e.filters + args.flatMap(\.filters) + [(name, args, offset)]
        }
    }
}

/// A problem in an expression, with the 0-based offset of the offending text.
public struct ExpressionError: Error, Sendable, Hashable {
    public var message: String
    public var offset: Int
    public var notes: [String]

    public init(_ message: String, offset: Int, notes: [String] = []) {
        self.message = message
        self.offset = offset
        self.notes = notes
    }
}
