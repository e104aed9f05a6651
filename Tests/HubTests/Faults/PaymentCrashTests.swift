import Emulators
import Flows
import Foundation
@testable import Hub
import Synchronization
import Testing

/// kill -9 in the middle of a burst of paid webhooks, with the repository's payment flow: after
/// restarts every payment is recorded once, every member is paid and gets exactly one invite.
///
/// Telegram has no idempotency key, so a message that took effect in the instant between
/// Telegram's answer and the hub recording it would be sent again after a crash; nothing can
/// close that window. The test kills the hub while sendMessage calls are held by the emulator's
/// gate (dropped unanswered afterwards) and every message that went out is recorded, so what it
/// proves is everything else: intake, mark_paid, invite links and resumed runs under kill -9.
@Suite(.serialized, .timeLimit(.minutes(4))) struct PaymentCrashTests {
    @Test("SIGKILL twice during a burst of 300 paid webhooks: each paid once, one invite each",
          arguments: TestDatabases.available)
    func killDuringPayments(kind: TestDatabaseKind) async throws {
        let funnel = PaidFunnel(count: 300)
        let telegram = PaidFunnel.telegram()
        let faults = TelegramFaults()
        let router = telegram.router(faults: faults)
        let telegramServer = try await EmulatorServer.start(router, name: "telegram")
        let folder = try PaidFunnel.paymentFlowFolder()
        defer { folder.remove() }
        try await TestDatabases.withURL(kind) { url in
            let environment = funnel.environment(database: url, flows: folder.flows, telegramURL: telegramServer.baseURL)
            let acknowledged = Acknowledged()
            var duplicatesAnswered = 0
            for round in 0..<3 {
                let hub = try HubProcess(environment: environment, workingDirectory: folder.root)
                let hubURL = "http://127.0.0.1:\(try await hub.waitForPort())"
                if round == 0 { try await funnel.seed(databaseURL: url, telegram: telegram) }
                // The provider's side: what is not acknowledged is sent again, 16 at a time; from
                // in the last round ten that were acknowledged long ago are redelivered too.
                let pending = (0..<funnel.count).filter { n in !acknowledged.set.withLock { $0.contains(n) } }
                let redelivered = round < 2 ? [] : Array(0..<10)
                let sender = Task {
                    var duplicates = 0
                    for start in stride(from: 0, to: pending.count, by: 16) {
                        let batch = pending[start..<min(start + 16, pending.count)]
                        let results = await withTaskGroup(of: (Int, Int?).self) { group in
                            for n in batch { group.addTask { (n, await funnel.postWebhook(n, to: hubURL, attempt: round + 1)) } }
                            return await group.reduce(into: [(Int, Int?)]()) { $0.append($1) }
                        }
                        for (n, status) in results where status == 200 { acknowledged.set.withLock { _ = $0.insert(n) } }
                        if results.allSatisfy({ $0.1 == nil }) { return duplicates }  // the hub is gone
                    }
                    for n in redelivered where await funnel.postWebhook(n, to: hubURL, attempt: 9) == 200 { duplicates += 1 }
                    return duplicates
                }
                if round < 2 {
                    // Kill once a third (then two thirds) of the invites are out, with runs in every stage.
                    let target = (round + 1) * funnel.count / 3
                    for _ in 0..<4000 where funnel.invites(in: telegram).count < target { try await Task.sleep(for: .milliseconds(5)) }
                    faults.closeGate(methods: ["sendMessage"])
                    // Runs pile up at the gate: the kill finds them half done.
                    for _ in 0..<200 where faults.heldCount < 3 { try await Task.sleep(for: .milliseconds(10)) }
                    try await waitUntilEverySentInviteIsRecorded(url: url, funnel: funnel, telegram: telegram)
                    hub.kill(SIGKILL)
                    _ = try await hub.waitForExit()
                    faults.openGate()
                    duplicatesAnswered += await sender.value
                } else {
                    duplicatesAnswered += await sender.value
                    #expect(acknowledged.set.withLock { $0.count } == funnel.count)
                    try await PaidFunnel.waitForRuns(databaseURL: url, completed: funnel.count)
                    hub.kill(SIGTERM)
                    #expect(try await hub.waitForExit() == 0)
                }
            }
            #expect(duplicatesAnswered == 10, "redelivered webhooks are acknowledged as duplicates")
            try await funnel.expectAllPaidOnce(databaseURL: url, telegram: telegram, label: "\(kind)")
            print("payment crash test (\(kind)): \(funnel.count) payments, \(faults.injected["dropped"] ?? 0) sends dropped at kill time, "
                  + "\(telegram.calls(of: "createChatInviteLink").count) invite links created")
        }
        await telegram.shutdown()
        await telegramServer.stop()
    }

    /// Every invite message the emulator delivered is in the hub's effect records (so none of
    /// them sits in the unrecorded instant after Telegram answered). At most 10 s.
    private func waitUntilEverySentInviteIsRecorded(url: String, funnel: PaidFunnel, telegram: TelegramEmulator) async throws {
        let store = try Store.open(url, poolSize: 1)
        var recorded = -1
        var delivered = 0
        for _ in 0..<200 {
            delivered = funnel.invites(in: telegram).values.reduce(0, +)
            recorded = try await store.database.query(
                "SELECT COUNT(*) AS n FROM telegram_effects WHERE action LIKE '%send_invite' AND result LIKE '%message_id%'").first?["n"]?.intValue ?? -1
            if recorded == delivered { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        await store.close()
        #expect(recorded == delivered, "invites delivered but not recorded before the kill")
    }
}

/// Webhooks the hub answered 200, shared by the sender task and the test.
final class Acknowledged: Sendable {
    let set = Mutex(Set<Int>())
}
