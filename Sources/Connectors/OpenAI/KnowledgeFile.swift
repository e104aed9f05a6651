import Foundation
import Logging
import Synchronization

/// The admin's Markdown knowledge file, read on first use and again whenever its modification
/// date or size changes, so an edit takes effect on the next question without a restart.
/// A missing or unreadable file reads as no knowledge; the assistant then escalates more.
final class KnowledgeFile: Sendable {
    /// More than this is cut: every character is sent with every question and costs tokens.
    static let maxCharacters = 40_000
    /// At most this much is read: a character takes up to 4 bytes, so the limit always fits.
    static let maxBytes = maxCharacters * 4

    let path: String?
    private let logger: Logger
    private let cache = Mutex<Snapshot?>(nil)

    private struct Snapshot {
        var modified: Date?
        var size: Int
        var text: String
    }

    init(path: String?, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    /// The file's current text, or nil when there is no file.
    func text() -> String? {
        guard let configured = path else { return nil }
        // Through symlinks (a mounted ConfigMap, `ln -s`): the file they lead to is the knowledge.
        let path = URL(fileURLWithPath: configured).resolvingSymlinksInPath().path
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            cache.withLock { $0 = nil }
            return nil
        }
        // A regular file only: a FIFO would block each question, and /dev/zero never ends.
        guard attributes[.type] as? FileAttributeType == .typeRegular else {
            logger.warning("knowledge path is not a regular file; it is not read", metadata: ["knowledge.path": "\(path)"])
            return nil
        }
        let modified = attributes[.modificationDate] as? Date
        let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
        if let cached = cache.withLock({ $0 }), cached.modified == modified, cached.size == size { return cached.text }
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        // A huge file is read only as far as the limit could reach, not whole on every edit.
        guard let data = try? handle.read(upToCount: Self.maxBytes) else { return nil }
        var text = String(decoding: data, as: UTF8.self)
        if text.count > Self.maxCharacters {
            logger.warning("knowledge file is too long; the end is not used",
                           metadata: ["knowledge.path": "\(path)", "knowledge.limit": "\(Self.maxCharacters)"])
            text = String(text.prefix(Self.maxCharacters))
        }
        logger.debug("knowledge file read", metadata: ["knowledge.path": "\(path)", "knowledge.characters": "\(text.count)"])
        cache.withLock { $0 = Snapshot(modified: modified, size: size, text: text) }
        return text
    }
}
