import Hub
import Logging
import Synchronization
import Testing

/// The hub's log lines: `StreamLogHandler`'s format, with the logger's metadata kept until a line is written.
@Suite struct HubLogHandlerTests {
    final class Lines: TextOutputStream, Sendable {
        let written = Mutex<[String]>([])
        func write(_ string: String) { written.withLock { $0.append(string) } }
    }

    @Test("metadata set on the logger and given with the message are both written, sorted; the message's value wins")
    func metadataOnWrite() throws {
        let lines = Lines()
        var logger = Logger(label: "hub.test") { HubLogHandler(label: $0, level: .info, stream: lines) }
        logger[metadataKey: "hb.request.id"] = "42"
        logger[metadataKey: "run.id"] = "r-1"
        logger.debug("not written: below the level")
        logger.info("stored", metadata: ["run.id": "r-2", "event.trigger": "paid"])
        let written = lines.written.withLock { $0 }
        #expect(written.count == 1)
        let line = try #require(written.first)
        // `<timestamp> info hub.test: <metadata> [<source>] stored`, as StreamLogHandler writes it.
        #expect(line.hasSuffix(" info hub.test: event.trigger=paid hb.request.id=42 run.id=r-2 [HubTests] stored\n"))
    }

    @Test("a line break from outside (a webhook's field) is written escaped: one event, one line")
    func lineBreaksAreEscaped() throws {
        let lines = Lines()
        let logger = Logger(label: "hub.test") { HubLogHandler(label: $0, level: .info, stream: lines) }
        let forged = "1\n2026-01-01T00:00:00+0000 info prodamus : prodamus notification stored"
        logger.warning("refused \(forged)", metadata: ["prodamus.order_id": "\(forged)", "list": ["a\rb"]])
        let line = try #require(lines.written.withLock { $0 }.first)
        #expect(line.filter { $0 == "\n" }.count == 1 && line.hasSuffix("\n"))
        #expect(line.contains("prodamus.order_id=1\\n2026-01-01T00:00:00+0000 info prodamus"))
        #expect(line.contains("refused 1\\n2026") && !line.contains("\r"), "\(line)")
    }
}
