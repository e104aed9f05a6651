import Flows
import Synchronization

/// The flows in force, swapped atomically on reload. Versions a run started on stay reachable,
/// so in-flight runs finish on the flow they began with.
public final class FlowRegistry: Sendable {
    private struct State {
        var current: [Flow] = []
        var byTrigger: [String: [Flow]] = [:]
        /// name → version → flow, every version loaded in this process's life.
        var versions: [String: [String: Flow]] = [:]
    }

    private let state = Mutex(State())

    public init(_ flows: [Flow] = []) { replace(with: flows) }

    /// Installs a new, already checked set of flows.
    public func replace(with flows: [Flow]) {
        state.withLock { s in
            s.current = flows
            s.byTrigger = Dictionary(grouping: flows, by: \.trigger.key)
            for flow in flows { s.versions[flow.name, default: [:]][flow.version] = flow }
        }
    }

    public var flows: [Flow] { state.withLock { $0.current } }

    /// Flows started by a trigger key (`prodamus.paid`, `http:/hooks/x`, `hub.run_failed`).
    public func flows(for key: String) -> [Flow] { state.withLock { $0.byTrigger[key] ?? [] } }

    /// The flow a run started on, if this process has it (see `FlowArchive` for the others).
    public func flow(named name: String, version: String) -> Flow? {
        state.withLock { s in s.versions[name]?[version] }
    }

    /// Keeps a version restored from the archive at hand for the next runs that need it.
    func remember(_ flow: Flow) {
        state.withLock { s in s.versions[flow.name, default: [:]][flow.version] = flow }
    }

    public func flow(named name: String) -> Flow? { state.withLock { s in s.current.first { $0.name == name } } }
}
