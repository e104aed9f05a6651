extension FlowCompiler {
    mutating func compileStep(_ node: SourceNode, index: Int, references: inout References) -> Step? {
        references.currentIndex = index
        guard let members = node.mapping else {
            error(node.location, "a step must be a mapping with 'do:', found \(node.kindName)", "wrong-type", ["write '- do: instance.action'"])
            return nil
        }
        checkKeys(members, allowed: StepKey.all, context: "step")

        var id = "step\(index + 1)"
        var hasExplicitID = false
        if let idNode = node[StepKey.id], let text = string(idNode, what: "the step id") {
            if !FlowCompiler.isIdentifier(text) {
                error(idNode.location, "step id '\(text)' must be letters, digits and '_', starting with a letter", "bad-step-id", ["e.g. 'id: member'"])
            } else if ScopeRoot.all.contains(text) {
                error(idNode.location, "'\(text)' is reserved and cannot be a step id", "bad-step-id", ["choose another name"])
            } else if references.earlier.keys.contains(text) {
                error(idNode.location, "duplicate step id '\(text)'", "duplicate-step-id", ["step ids must be unique within a flow"])
            } else {
                id = text
                hasExplicitID = true
            }
        } else if node[StepKey.id] == nil, references.earlier.keys.contains(id) {
            // Two steps under one id would share its result and its idempotency key: the
            // second would be taken as done and never run.
            error(node.location, "this step's automatic id '\(id)' is already an earlier step's id", "duplicate-step-id",
                  ["give this step an 'id:', or rename the earlier one"])
        }

        guard let doNode = node[StepKey.action] else {
            error(node.location, "the step has no 'do:'", "missing-key", ["add 'do: instance.action', e.g. 'do: db.mark_paid'"])
            return nil
        }
        guard let target = string(doNode, what: "the action") else { return nil }
        let resolved = resolveAction(target, at: doNode.location)

        var inputs: [String: ValueTemplate] = [:]
        var written = Set<String>()
        let withNode = node[StepKey.inputs]
        let referencesBefore = environmentReferences.count
        defer { if let exposed = resolved?.action.exposesInputs { warnAboutExposedSecrets(since: referencesBefore, action: target, exposed: exposed) } }
        if let withNode {
            if let withMembers = withNode.mapping {
                var seen = Set<String>()
                for (key, value) in withMembers {
                    written.insert(key.text)
                    if !seen.insert(key.text).inserted {
                        error(key.location, "input '\(key.text)' appears twice", "duplicate-key", ["keep one of them"])
                    }
                    let field = resolved?.action.inputs[named: key.text]
                    if let resolved, field == nil {
                        error(key.location, "unknown input '\(key.text)' for '\(target)'", "unknown-input",
                              [Suggestions.note(for: key.text, in: resolved.action.inputs.names, kind: "input")])
                    }
                    if let template = valueTemplate(value, field: field, references: references) { inputs[key.text] = template }
                }
            } else {
                error(withNode.location, "'with' must be a mapping of inputs, found \(withNode.kindName)", "wrong-type", ["write 'with: { name: value }'"])
            }
        }
        if let resolved {
            for field in resolved.action.inputs where field.required && field.defaultValue == nil && !written.contains(field.name) {
                error(withNode?.location ?? doNode.location, "missing required input '\(field.name)' for '\(target)'", "missing-input",
                      ["add '\(field.name): …' under 'with:' (\(field.summary))"])
            }
            for field in resolved.action.inputs where inputs[field.name] == nil {
                if let value = field.defaultValue { inputs[field.name] = .literal(value) }
            }
        }

        var condition: Expression?
        if let ifNode = node[StepKey.condition] { condition = compileCondition(ifNode, references: references) }
        var retry = RetryPolicy()
        if let retryNode = node[StepKey.retry] { retry = compileRetry(retryNode) }
        var onError = ErrorPolicy.fail
        if let onErrorNode = node[StepKey.onError] { onError = compileOnError(onErrorNode) }

        references.earlier[id] = .some(resolved?.action.outputs)
        guard let resolved else { return nil }
        return Step(id: id, hasExplicitID: hasExplicitID, instance: resolved.instance, action: resolved.action.name, inputs: inputs,
                    condition: condition, retry: retry, onError: onError, location: node.location)
    }

    private mutating func resolveAction(_ target: String, at location: SourceLocation) -> (instance: String, action: ActionSpec)? {
        let parts = target.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            error(location, "'\(target)' must be written instance.action", "unknown-action", ["e.g. 'do: db.mark_paid'"])
            return nil
        }
        guard let instance = catalog.instance(parts[0]) else {
            error(location, "unknown connector instance '\(parts[0])'", "unknown-instance", [instanceNote(parts[0])])
            return nil
        }
        guard let action = instance.spec.action(parts[1]) else {
            let names = instance.spec.actions.map(\.name)
            let note = Suggestions.closest(to: parts[1], in: names).map { "did you mean '\(parts[0]).\($0)'?" }
                ?? Suggestions.note(for: parts[1], in: names, kind: "\(parts[0]) action")
            error(location, "unknown action '\(target)'", "unknown-action", [note])
            return nil
        }
        return (parts[0], action)
    }

    private mutating func compileRetry(_ node: SourceNode) -> RetryPolicy {
        var policy = RetryPolicy()
        if let s = node.scalar {
            if let n = Int(substitute(s)), n >= 1, n <= 100 { policy.attempts = n } else {
                error(s.location, "retry must be a number of attempts (1-100) or a mapping", "wrong-type", ["e.g. 'retry: { attempts: 5, backoff: 2s }'"])
            }
            return policy
        }
        guard let members = node.mapping else {
            error(node.location, "'retry' must be a mapping, found \(node.kindName)", "wrong-type", ["e.g. 'retry: { attempts: 5, backoff: 2s }'"])
            return policy
        }
        checkKeys(members, allowed: RetryKey.all, context: "retry")
        if let n = node[RetryKey.attempts], let text = string(n, what: "attempts") {
            if let v = Int(text), v >= 1, v <= 100 { policy.attempts = v } else {
                error(n.location, "attempts must be a whole number from 1 to 100, found '\(text)'", "wrong-type")
            }
        }
        for (key, path) in [(RetryKey.backoff, \RetryPolicy.backoff), (RetryKey.maxDelay, \RetryPolicy.maxDelay)] {
            if let n = node[key], let text = string(n, what: key) {
                if let d = FlowCompiler.duration(text) { policy[keyPath: path] = d } else {
                    error(n.location, "'\(text)' is not a duration", "wrong-type", ["write e.g. 500ms, 2s, 1m"])
                }
            }
        }
        return policy
    }

    private mutating func compileOnError(_ node: SourceNode) -> ErrorPolicy {
        guard let text = string(node, what: "on_error") else { return .fail }
        switch text {
        case "fail": return .fail
        case "continue": return .continue
        default:
            if FlowCompiler.isFlowName(text) { return .flow(text) }
            error(node.location, "on_error must be 'fail', 'continue' or the name of a flow, found '\(text)'", "wrong-type")
            return .fail
        }
    }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_") }
    }

    static func isFlowName(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_" || $0 == "-") }
    }

    /// A step whose inputs are shown (its result is stored with the run, its message logged or
    /// kept as the run's error): a secret taken from the environment would be written out.
    private mutating func warnAboutExposedSecrets(since start: Int, action: String, exposed: String) {
        for (name, s) in environmentReferences[start...] where looksSecret(name) {
            // Located only here, for the rare warning, not for every substitution.
            let offset = s.text.firstRange(of: "${" + name).map { s.text.distance(from: s.text.startIndex, to: $0.lowerBound) } ?? 0
            warning(locate(s, offset: offset, in: s.text), "'${\(name)}' looks like a secret, and '\(action)' \(exposed)",
                    "stored-secret", ["write ${\(name)} in the step that needs it instead"])
        }
    }

    /// A variable a connector reads into a secret setting, or one named like a credential.
    private func looksSecret(_ name: String) -> Bool {
        let upper = name.uppercased()
        if ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIAL"].contains(where: upper.contains) { return true }
        return catalog.registry.specs.contains { $0.config.contains { $0.secret && $0.environment == name } }
    }
}

