import Emulators
import Flows
import Foundation
@testable import Hub
import Testing

/// The daily session post with the repository's flow: two hubs on one Postgres, one post per slot.
@Suite(.serialized, .timeLimit(.minutes(3))) struct DailyPostTests {
    @Test("two hubs on one Postgres post the day's link once per slot, protected, without start_url, after Zoom refused five times",
          .enabled(if: TestDatabases.postgresURL != nil, "needs HUB_TEST_POSTGRES_URL"))
    func oncePerSlot() async throws {
        let telegram = TelegramEmulator(token: "77:DAILY", botUsername: "session_hub_bot")
        telegram.addGroup(id: -100888, title: "Сеансы", hasProtectedContent: true)
        let zoom = ZoomEmulator(accountID: "acc", clientID: "cid", clientSecret: "zoom-secret")
        let telegramServer = try await EmulatorServer.start(telegram.router(), name: "telegram")
        let zoomServer = try await EmulatorServer.start(zoom.router(), name: "zoom")
        let folder = try FlowFolder([:])
        defer { folder.remove() }
        let daily = Repository.path("flows/daily-session.yaml")
        try folder.write("daily-session.yaml", String(contentsOfFile: daily, encoding: .utf8))
        try await TestDatabases.withURL(.postgres) { url in
            let environment = [
                "HUB_DATABASE_URL": url, "HUB_FLOWS": folder.flows, "SESSION_POST_CRON": "* * * * *", "SESSION_TIMEZONE": "Asia/Yekaterinburg",
                "TELEGRAM_BOT_TOKEN": "77:DAILY", "TELEGRAM_API_URL": telegramServer.baseURL, "TELEGRAM_GROUP_ID": "-100888",
                "ZOOM_ACCOUNT_ID": "acc", "ZOOM_CLIENT_ID": "cid", "ZOOM_CLIENT_SECRET": "zoom-secret", "ZOOM_HOST": "host@example.ru",
                "ZOOM_API_URL": zoomServer.baseURL + "/v2", "ZOOM_OAUTH_URL": zoomServer.baseURL,
            ]
            let hubs = [try HubProcess(environment: environment, workingDirectory: folder.root),
                        try HubProcess(environment: environment, workingDirectory: folder.root)]
            for hub in hubs { _ = try await hub.waitForPort() }
            // Zoom is busy at post time: more refusals than the default three attempts.
            zoom.failNext(5, status: 429, retryAfter: 1)
            // The next minute's slot fires within 60 s; then give both hubs time to do it twice if they could.
            var posts: [SentMessage] = []
            for _ in 0..<700 {
                posts = telegram.messages(to: -100888)
                if !posts.isEmpty { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .seconds(3))
            posts = telegram.messages(to: -100888)
            #expect(posts.count == 1, "\(hubs.map(\.stderr))")
            let post = try #require(posts.first)
            #expect(post.protectContent == true)
            let meeting = try #require(zoom.meetingsCreated.first)
            #expect(zoom.meetingsCreated.count == 1)
            // Booked at 19:00 in the schedule's zone, on the slot's day there.
            #expect(meeting.timezone == "Asia/Yekaterinburg")
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "Asia/Yekaterinburg")!
            let day = calendar.dateComponents([.year, .month, .day], from: Date())
            let expected = String(format: "%04d-%02d-%02dT19:00:00", day.year!, day.month!, day.day!)
            #expect(meeting.requestedStartTime == expected)
            #expect(post.text?.contains(meeting.joinURL) == true)
            #expect(post.text?.contains(meeting.startURL) == false)
            #expect(post.text?.hasPrefix("Ссылка на сеанс") == true)
            let store = try Store.open(url, poolSize: 1)
            #expect(try await store.database.query("SELECT COUNT(*) AS n FROM hub_schedule_slots").first?["n"] == 1)
            await store.close()
            for hub in hubs {
                hub.kill(SIGTERM)
                #expect(try await hub.waitForExit() == 0)
            }
        }
        await telegram.shutdown()
        await telegramServer.stop()
        await zoomServer.stop()
    }
}
