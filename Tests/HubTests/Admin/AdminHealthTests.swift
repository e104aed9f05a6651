import Emulators
import Flows
import Foundation
@testable import Hub
import Synchronization
import Testing

/// The overview's connector health block, with a real Telegram connector against the emulator.
@Suite(.serialized, .timeLimit(.minutes(2))) struct AdminHealthTests {
    static let warning = "Группа «Сеансы»: защита содержимого ВЫКЛЮЧЕНА — участники могут пересылать и сохранять всё, что в ней публикуется. "
        + "Включить её может только владелец группы в приложении Telegram: откройте группу → Изменить (настройки группы) → "
        + "Тип группы (Защита содержимого) → «Запретить копирование». Бот не может включить это сам; "
        + "пока защита выключена, хаб защищает каждое своё сообщение по отдельности."

    @Test("a group without content protection shows the owner's how-to in plain words; the health is cached")
    func protectionOffWarning() async throws {
        try await Self.withTelegram(protected: false) { telegram, connectors in
            try await AdminHarness.with(connectors: connectors) { _, client in
                let browser = try await AdminBrowser.signIn(client)
                let page = try await Self.surveyedOverview { try await browser.get(client, "/admin").text }
                #expect(page.contains("<div class=\"health-warning\" data-check=\"group_protection\"><b>внимание</b>: \(Self.warning)</div>"), "\(page)")
                // Said at the top of the page too, linking down to the details.
                #expect(page.contains("<p class=\"health-warning\" role=\"alert\"><a href=\"#health\">Подключения требуют внимания: "
                    + "ошибок — 0, предупреждений — 1. Подробности — в блоке «Состояние» ниже.</a></p>"))
                #expect(page.contains("<div class=\"health-ok\" data-check=\"bot\"><b>в порядке</b>: Бот @session_hub_bot на связи.</div>"))
                // The owner fixes it; the overview keeps the minute-old survey rather than asking Telegram on every page.
                telegram.addGroup(id: -100777, title: "Сеансы", hasProtectedContent: true)
                #expect(try await browser.get(client, "/admin").text.contains(Self.warning))
                let stats = try Value(json: try await browser.get(client, "/admin/api/stats").text)
                let checks = stats["health"]?.arrayValue?.first?["checks"]?.arrayValue ?? []
                #expect(checks.first { $0["name"] == "group_protection" }?["level"] == "warning")
            }
        }
    }

    @Test("with protection on every check is ok")
    func protectionOn() async throws {
        try await Self.withTelegram(protected: true) { _, connectors in
            try await AdminHarness.with(connectors: connectors) { _, client in
                let browser = try await AdminBrowser.signIn(client)
                let page = try await Self.surveyedOverview { try await browser.get(client, "/admin").text }
                #expect(page.contains("<p class=\"health-ok\">Все проверки подключений пройдены.</p>"), "\(page)")
                #expect(page.contains("<div class=\"health-ok\" data-check=\"group_protection\"><b>в порядке</b>: "
                    + "Группа «Сеансы»: защита содержимого включена, сообщения нельзя переслать или сохранить.</div>"))
                #expect(!page.contains("ВЫКЛЮЧЕНА"))
            }
        }
    }

    @Test("the health cache: one survey a minute; a page waits no longer than it asks; an expired result is served while refreshing")
    func cache() async throws {
        let surveys = Mutex(0)
        let (opened, open) = AsyncStream<Void>.makeStream()
        let cache = HealthCache(ttl: .seconds(60)) {
            surveys.withLock { $0 += 1 }
            for await _ in opened { break }
            return [ConnectorHealth.Instance(name: "telegram", type: "telegram", checks: [])]
        }
        // The survey hangs (a service that does not answer): the page goes on without it.
        #expect(await cache.value(waitingAtMost: .milliseconds(20)) == nil)
        #expect(await cache.value(waitingAtMost: .milliseconds(20)) == nil)
        open.yield()
        var value: [ConnectorHealth.Instance]?
        for _ in 0..<500 where value == nil { value = await cache.value(waitingAtMost: .milliseconds(20)) }
        #expect(value?.map(\.name) == ["telegram"])
        _ = await cache.value(waitingAtMost: .zero)
        #expect(surveys.withLock { $0 } == 1)

        let counter = Mutex(0)
        let expiring = HealthCache(ttl: .zero) {
            let n = counter.withLock { $0 += 1; return $0 }
            return [ConnectorHealth.Instance(name: "survey \(n)", type: "t", checks: [])]
        }
        var first: [ConnectorHealth.Instance]?
        for _ in 0..<500 where first == nil { first = await expiring.value(waitingAtMost: .milliseconds(20)) }
        #expect(first?.map(\.name) == ["survey 1"])
        // Expired at once: the old result comes back without waiting, and a new survey starts.
        #expect(await expiring.value(waitingAtMost: .zero)?.map(\.name) == ["survey 1"])
        var later: String?
        for _ in 0..<500 where later == nil || later == "survey 1" {
            later = await expiring.value(waitingAtMost: .zero)?.first?.name
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(later?.hasPrefix("survey ") == true && later != "survey 1")
    }

    /// The overview once the first survey is in (a page waits for it 2 s at most; a loaded machine may take longer).
    static func surveyedOverview(_ load: () async throws -> String) async throws -> String {
        var page = try await load()
        for _ in 0..<100 where page.contains(AdminText.labels["health_pending"]!) {
            try await Task.sleep(for: .milliseconds(100))
            page = try await load()
        }
        return page
    }

    /// The Telegram connector built from the environment as `hub serve` builds it, against the emulator.
    static func withTelegram(protected: Bool, _ body: (TelegramEmulator, [String: any Connector]) async throws -> Void) async throws {
        let telegram = TelegramEmulator(token: "55:ADMIN-HEALTH", botUsername: "session_hub_bot")
        telegram.addGroup(id: -100777, title: "Сеансы", hasProtectedContent: protected)
        telegram.addGroup(id: -100555, title: "Операторы", hasProtectedContent: false)
        let server = try await EmulatorServer.start(telegram.router(), name: "telegram")
        do {
            let settings = try HubSettings(environment: [
                "TELEGRAM_BOT_TOKEN": "55:ADMIN-HEALTH", "TELEGRAM_API_URL": server.baseURL,
                "TELEGRAM_GROUP_ID": "-100777", "TELEGRAM_OPERATORS_CHAT_ID": "-100555",
            ])
            let built = ConnectorHealth.standalone(catalog: settings.catalog(registry: BuiltinConnectors.registry).catalog, settings: settings,
                                                   needed: [], database: nil)
            let connector = try #require(built.connectors["telegram"])
            try await body(telegram, ["telegram": connector])
        } catch {
            await telegram.shutdown()
            await server.stop()
            throw error
        }
        await telegram.shutdown()
        await server.stop()
    }
}
