import Foundation

extension FlowCompiler {
    /// A scalar's text with `${ENV}` substituted; `nil` (after a diagnostic) when it is not a scalar.
    mutating func string(_ node: SourceNode, what: String) -> String? {
        guard let s = node.scalar else {
            error(node.location, "\(what) must be a single value, found \(node.kindName)", "wrong-type")
            return nil
        }
        return substitute(s)
    }

    /// Replaces `${NAME}` (and `${NAME:-default}`) with the environment's value; a missing variable is an error.
    mutating func substitute(_ s: SourceNode.Scalar) -> String {
        var used: [String] = []
        defer { environmentReferences += used.map { ($0, s) } }
        switch EnvironmentSubstitution.apply(s.text, environment: environment, used: { name, value in
            substituted[value] = name
            used.append(name)
        }) {
        case .success(let text): return text
        case .failure(let missing):
            error(locate(s, offset: missing.offset, in: s.text), "environment variable '\(missing.name)' is \(missing.isEmpty ? "empty" : "not set")", "missing-env",
                  ["set it before starting the hub (export \(missing.name)=…), or write '${\(missing.name):-default}'"])
            return s.text
        }
    }

    /// Interprets a `with:` value by the declared field.
    mutating func valueTemplate(_ node: SourceNode, field: FieldSpec?, references: References) -> ValueTemplate? {
        switch node {
        case .sequence(let items, _):
            if let field, !(field.type == .array || field.type == .any) {
                error(node.location, "input '\(field.name)' expects \(field.type), found a list", "wrong-type")
                return nil
            }
            return .array(items.compactMap { valueTemplate($0, field: nil, references: references) })
        case .mapping(let members, _):
            if let field, !(field.type == .object || field.type == .any) {
                error(node.location, "input '\(field.name)' expects \(field.type), found a mapping", "wrong-type")
                return nil
            }
            var out: [String: ValueTemplate] = [:]
            for (key, value) in members {
                let member = field?.fields[named: key.text]
                if let v = valueTemplate(value, field: member, references: references) { out[key.text] = v }
            }
            return .object(out)
        case .scalar(let s):
            if let field, field.secret, !EnvironmentSubstitution.isReference(s.text) || EnvironmentSubstitution.hasWrittenDefault(s.text) {
                var inline = Diagnostic.error(at: s.location, "'\(field.name)' is a secret and must not be written in the file", code: "inline-secret",
                                              notes: ["write '\(field.name): ${\(field.environment ?? "SECRET_NAME")}' and set the variable in the environment"])
                inline.hidesSourceLine = true
                diagnostics.append(inline)
            }
            let text = substitute(s)
            if text.contains("{{") || text.contains("}}") {
                if let field, !field.templated {
                    error(s.location, "input '\(field.name)' does not accept templates", "bad-template", ["write a fixed value"])
                    return nil
                }
                return template(text, scalar: s, references: references).map(ValueTemplate.template)
            }
            return literal(text, scalar: s, field: field).map(ValueTemplate.literal)
        }
    }

    /// A scalar as a value: quoted text stays text; plain text gets YAML 1.2 core types, decided
    /// by the field's declared type so YAML 1.1 traps (`yes`, `on`, `9:30`) never change meaning silently.
    private mutating func literal(_ text: String, scalar s: SourceNode.Scalar, field: FieldSpec?) -> Value? {
        let type = field?.type ?? .any
        if s.isPlain {
            if YAMLScalar.isYAML11Boolean(text) {
                if type == .boolean {
                    error(s.location, "'\(text)' is not a boolean here", "ambiguous-scalar", ["write true or false"])
                    return nil
                }
                warning(s.location, "'\(text)' is read as the text \"\(text)\", but YAML 1.1 tools read it as a boolean", "ambiguous-scalar",
                        ["quote it (\"\(text)\") if you mean text, or write true/false"])
                return .string(text)
            }
            if YAMLScalar.isSexagesimal(text) {
                warning(s.location, "'\(text)' is read as the text \"\(text)\", but YAML 1.1 tools read it as the number \(YAMLScalar.sexagesimalValue(text))",
                        "ambiguous-scalar", ["quote it: \"\(text)\""])
                return .string(text)
            }
        }
        let value: Value = s.isPlain ? YAMLScalar.coreValue(text) : .string(text)
        let converted = FlowCompiler.convert(value, to: type)
        if let field, converted == nil {
            error(s.location, "input '\(field.name)' expects \(field.type), found \(value.typeName) '\(text)'", "wrong-type",
                  [field.summary])
            return nil
        }
        return converted ?? value
    }

    /// Coerces a literal to the declared type where that is unsurprising (numbers written for text fields).
    static func convert(_ value: Value, to type: FieldType) -> Value? {
        if value.isNull || type.accepts(value) { return value }
        switch (type, value) {
        case (.string, .number), (.string, .bool): return .string(value.text)
        case (.choice(let choices), .number) where choices.contains(value.text): return .string(value.text)
        case (.number, .string(let s)): return Double(s).map(Value.number)
        case (.integer, .string(let s)): return Int(s).map { .number(Double($0)) }
        default: return nil
        }
    }

    mutating func template(_ text: String, scalar: SourceNode.Scalar, references: References) -> Template? {
        do {
            let template = try Template(parsing: text)
            for (expression, _) in template.expressions { check(expression, scalar: scalar, text: text, references: references) }
            return template
        } catch {
            self.error(locate(scalar, offset: error.offset, in: text), "bad template: \(error.message)", "bad-template", error.notes)
            return nil
        }
    }

    /// An `if:` condition, written bare (`member.paid == true`) or in braces (`{{ member.paid }}`).
    mutating func compileCondition(_ node: SourceNode, references: References) -> Expression? {
        guard let s = node.scalar else {
            error(node.location, "'if' must be a single condition, found \(node.kindName)", "wrong-type",
                  ["e.g. if: \"{{ member.telegram_id != null }}\""])
            return nil
        }
        let text = substitute(s)
        do throws(ExpressionError) {
            let expression: Expression
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("{{") {
                let template = try Template(parsing: text)
                guard template.parts.count == 1, case .expression(let e, _) = template.parts[0] else {
                    throw ExpressionError("a condition must be one {{ … }} expression without other text", offset: 0)
                }
                expression = e
            } else {
                expression = try ExpressionParser.parse(text)
            }
            check(expression, scalar: s, text: text, references: references)
            return expression
        } catch {
            self.error(locate(s, offset: error.offset, in: text), "bad condition: \(error.message)", "bad-condition", error.notes)
            return nil
        }
    }

    /// Checks the paths an expression reads and the filters it applies.
    private mutating func check(_ expression: Expression, scalar: SourceNode.Scalar, text: String, references: References) {
        for (name, arguments, offset) in expression.filters {
            guard let filter = Filters.catalogue.first(where: { $0.name == name }) else {
                error(locate(scalar, offset: offset, in: text), "unknown filter '\(name)'", "bad-template", [Suggestions.note(for: name, in: Filters.names, kind: "filter")])
                continue
            }
            if !filter.arguments.contains(arguments.count) {
                let expected = filter.arguments.lowerBound == filter.arguments.upperBound ? "\(filter.arguments.lowerBound)" : "\(filter.arguments.lowerBound)-\(filter.arguments.upperBound)"
                error(locate(scalar, offset: offset, in: text), "filter '\(name)' takes \(expected) argument(s), found \(arguments.count)", "bad-template", [filter.summary])
            }
            // A time zone written out is checked now rather than failing every run.
            if name == "date", arguments.count == 2, case .literal(.string(let zone)) = arguments[1], TimeZone(identifier: zone) == nil {
                error(locate(scalar, offset: offset, in: text), "unknown time zone '\(zone)'", "bad-template", ["use an IANA name such as Europe/Moscow"])
            }
            if name == "truncate", case .literal(let limit)? = arguments.first, Filters.truncationLimit(limit) == nil {
                error(locate(scalar, offset: offset, in: text), "truncate takes a whole number of characters from 1, found \(limit.json)", "bad-template", [filter.summary])
            }
        }
        for (path, offsets) in expression.paths {
            check(path, at: offsets.map { locate(scalar, offset: $0, in: text) }, references: references)
        }
    }

    /// `locations` has one entry per part of `path`.
    private mutating func check(_ path: [String], at locations: [SourceLocation], references: References) {
        let location = locations[0]
        let root = path[0]
        if root == ScopeRoot.now { return }
        if root == ScopeRoot.event {
            guard path.count > 1, let fields = references.eventFields else { return }
            checkMember(path, fields: fields, at: locations, what: "the event")
            return
        }
        if let outputs = references.earlier[root] {
            if let outputs, path.count > 1 { checkMember(path, fields: outputs, at: locations, what: "step '\(root)'") }
            return
        }
        if let index = references.allStepIDs[root] {
            let when = index == references.currentIndex ? "is this step itself" : "runs later (step \(index + 1))"
            error(location, "step '\(root)' is used before it runs", "step-order",
                  ["'\(root)' \(when); a step can read only the steps above it"])
            return
        }
        let candidates = ScopeRoot.all + references.earlier.keys.sorted()
        error(location, "unknown name '\(root)'", "unknown-reference",
              [Suggestions.closest(to: root, in: candidates).map { "did you mean '\($0)'?" }
                  ?? "expressions can read: " + candidates.map { "'\($0)'" }.joined(separator: ", ")])
    }

    /// Checks `root.member…` against declared fields, one level per declared object; an index
    /// into a declared array (`products[0].name`) is checked against the item's fields.
    private mutating func checkMember(_ path: [String], fields: [FieldSpec], at locations: [SourceLocation], what: String) {
        var current = fields
        var inArray = false
        for (member, location) in zip(path, locations).dropFirst() {
            if inArray, Int(member) != nil {
                inArray = false
                continue
            }
            guard let field = current[named: member] else {
                error(location, "\(what) has no field '\(member)'", "unknown-field",
                      [Suggestions.note(for: member, in: current.names, kind: "field")])
                return
            }
            guard !field.fields.isEmpty else { return }
            current = field.fields
            inArray = field.type == .array
        }
    }
}
