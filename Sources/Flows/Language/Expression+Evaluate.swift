extension Expression {
    /// Evaluates the expression. Missing paths read as `null`; comparisons never throw.
    public func evaluate(in scope: Scope) throws(ExpressionError) -> Value {
        switch self {
        case .literal(let v): return v
        case .path(let p, _): return scope.resolve(p)
        case .not(let e): return .bool(!(try e.evaluate(in: scope).isTruthy))
        case .binary(.and, let l, let r):
            guard try l.evaluate(in: scope).isTruthy else { return .bool(false) }
            return .bool(try r.evaluate(in: scope).isTruthy)
        case .binary(.or, let l, let r):
            if try l.evaluate(in: scope).isTruthy { return .bool(true) }
            return .bool(try r.evaluate(in: scope).isTruthy)
        case .binary(let op, let l, let r): return .bool(Expression.compare(op, try l.evaluate(in: scope), try r.evaluate(in: scope)))
        case .filter(let e, let name, let arguments, let offset):
            let input = try e.evaluate(in: scope)
            var args: [Value] = []
            for a in arguments { args.append(try a.evaluate(in: scope)) }
            return try Filters.apply(name, to: input, arguments: args, scope: scope, offset: offset)
        }
    }

    /// Numbers compare as numbers, also when one side is text holding a number (form fields are text).
    static func compare(_ op: BinaryOperator, _ l: Value, _ r: Value) -> Bool {
        switch op {
        case .equal: return equal(l, r)
        case .notEqual: return !equal(l, r)
        case .less, .greater, .lessOrEqual, .greaterOrEqual:
            let order: Int
            if let a = number(l), let b = number(r) {
                order = a < b ? -1 : (a > b ? 1 : 0)
            } else if case .string(let a) = l, case .string(let b) = r {
                order = a < b ? -1 : (a > b ? 1 : 0)
            } else {
                return false
            }
            switch op {
            case .less: return order < 0
            case .greater: return order > 0
            case .lessOrEqual: return order <= 0
            default: return order >= 0
            }
        case .in: return contains(r, l)
        case .contains: return contains(l, r)
        case .and, .or: return false
        }
    }

    private static func number(_ v: Value) -> Double? {
        switch v {
        case .number(let n): n
        case .string(let s): Double(s.trimmingCharacters(in: .whitespaces))
        default: nil
        }
    }

    private static func equal(_ l: Value, _ r: Value) -> Bool {
        if l == r { return true }
        if case .number = l, let a = number(l), let b = number(r) { return a == b }
        if case .number = r, let a = number(l), let b = number(r) { return a == b }
        return false
    }

    private static func contains(_ container: Value, _ item: Value) -> Bool {
        switch container {
        case .array(let items): items.contains { equal($0, item) }
        case .string(let s): item.text.isEmpty ? true : s.localizedCaseInsensitiveContains(item.text)
        case .object(let o): o[item.text] != nil
        default: false
        }
    }
}
