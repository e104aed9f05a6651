import Foundation

/// All flows of a folder (or a list of files), checked together: each file on its own, then
/// what spans files (duplicate names, `on_error` flows that do not exist).
public struct FlowSet: Sendable {
    public var flows: [Flow]
    public var diagnostics: [Diagnostic]
    /// File texts by path, to show the source line under a diagnostic.
    public var sources: [String: String]

    public var hasErrors: Bool { diagnostics.hasErrors }

    public func flow(named name: String) -> Flow? { flows.first { $0.name == name } }

    /// Loads `.yaml`/`.yml` files from the given files and folders (folders are read recursively, sorted).
    public static func load(paths: [String], catalog: Catalog, environment: [String: String] = ProcessInfo.processInfo.environment) -> FlowSet {
        var files: [String] = []
        var diagnostics: [Diagnostic] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                diagnostics.append(.error(at: SourceLocation(file: path, line: 1, column: 1), "no such file or folder", code: "missing-file"))
                continue
            }
            if isDirectory.boolValue {
                files += flowFiles(in: path)
            } else {
                files.append(path)
            }
        }
        var set = FlowSet(flows: [], diagnostics: diagnostics, sources: [:])
        var compiler = FlowCompiler(catalog: catalog, environment: environment)
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                set.diagnostics.append(.error(at: SourceLocation(file: file, line: 1, column: 1), "cannot read the file: \(whyUnreadable(file))",
                                              code: "unreadable-file"))
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                set.diagnostics.append(.error(at: SourceLocation(file: file, line: 1, column: 1), "cannot read the file as UTF-8 text", code: "unreadable-file"))
                continue
            }
            set.add(text, file: file, compiler: &compiler)
        }
        set.checkAcrossFiles()
        return set
    }

    /// The system's reason a file cannot be read: permission denied, a link to a file that is gone.
    private static func whyUnreadable(_ file: String) -> String {
        let fd = open(file, O_RDONLY)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        var byte: UInt8 = 0
        return read(fd, &byte, 1) < 0 ? String(cString: strerror(errno)) : "it changed while being read"
    }

    /// Builds a set from texts in memory (tests, the dashboard's editor).
    public static func compile(_ files: [(file: String, text: String)], catalog: Catalog, environment: [String: String] = [:]) -> FlowSet {
        var set = FlowSet(flows: [], diagnostics: [], sources: [:])
        var compiler = FlowCompiler(catalog: catalog, environment: environment)
        for (file, text) in files { set.add(text, file: file, compiler: &compiler) }
        set.checkAcrossFiles()
        return set
    }

    private mutating func add(_ text: String, file: String, compiler: inout FlowCompiler) {
        sources[file] = text
        let (flow, found) = compiler.compile(text, file: file)
        diagnostics += found
        if let flow { flows.append(flow) }
    }

    /// The flow files under a folder. Hidden names (`.`…) are skipped, with what is under them:
    /// an editor's lock file (`.#payment.yaml`, often a link to nothing), macOS's `._payment.yaml`
    /// or a `.git` folder is not a flow.
    public static func flowFiles(in folder: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            if relative.split(separator: "/").last?.hasPrefix(".") == true {
                enumerator.skipDescendants()
                continue
            }
            if relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") {
                files.append(folder.hasSuffix("/") ? folder + relative : folder + "/" + relative)
            }
        }
        return files.sorted()
    }

    private mutating func checkAcrossFiles() {
        var byName: [String: Flow] = [:]
        for flow in flows {
            if let first = byName[flow.name] {
                diagnostics.append(.error(at: SourceLocation(file: flow.file, line: 1, column: 1), "flow name '\(flow.name)' is already used",
                                          code: "duplicate-flow", notes: ["the other one is in \(first.file)"]))
            } else {
                byName[flow.name] = flow
            }
        }
        var paths: [String: Flow] = [:]
        for flow in flows {
            if case .http(let path) = flow.trigger {
                if let other = paths[path] {
                    diagnostics.append(.error(at: SourceLocation(file: flow.file, line: 1, column: 1), "webhook path '\(path)' is already taken",
                                              code: "duplicate-path", notes: ["flow '\(other.name)' in \(other.file) uses it"]))
                }
                paths[path] = flow
            }
            for step in flow.steps {
                if case .flow(let name) = step.onError, byName[name] == nil {
                    diagnostics.append(.error(at: step.location, "on_error names flow '\(name)', which does not exist", code: "unknown-flow",
                                              notes: [Suggestions.note(for: name, in: Array(byName.keys), kind: "flow")]))
                }
            }
        }
        diagnostics = diagnostics.sortedByLocation
        if diagnostics.hasErrors {
            let failed = Set(diagnostics.filter { $0.severity == .error }.map(\.location.file))
            flows.removeAll { failed.contains($0.file) }
        }
    }

    /// Every diagnostic with its source line and caret, as `hub check` prints them.
    public func rendered() -> String {
        diagnostics.map { $0.rendered(source: sources[$0.location.file]) }.joined(separator: "\n")
    }
}
