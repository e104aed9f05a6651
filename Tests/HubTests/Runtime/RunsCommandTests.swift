@testable import HubCommand
import Testing

/// `hub runs list` refuses options that would quietly list nothing (or everything).
@Suite struct RunsCommandTests {
    @Test(arguments: [["--status", "faild"], ["--limit", "0"], ["--limit", "-1"]])
    func badOptionsAreRefused(_ arguments: [String]) {
        #expect(throws: (any Error).self) { try RunsCommand.List.parse(arguments) }
    }

    @Test func goodOptionsParse() throws {
        let parsed = try RunsCommand.List.parse(["--status", "failed", "--limit", "5"])
        #expect(parsed.status == "failed" && parsed.limit == 5)
    }
}
