import Flows
import Testing

@Suite struct DeadlineTests {
    @Test("work that answers in time gives its answer, every time; work that does not gives nil and goes on")
    func answerOrNil() async {
        // Many at once, as webhooks come: an answer must never lose a race against its own timer.
        let missed = await withTaskGroup(of: Int.self) { group in
            for lane in 0..<8 {
                group.addTask {
                    var missed = 0
                    for i in 0..<2_000 where await Deadline.result(within: .seconds(10), of: { lane * i }) != lane * i { missed += 1 }
                    return missed
                }
            }
            return await group.reduce(0, +)
        }
        #expect(missed == 0)
        let (finished, finish) = AsyncStream<Int>.makeStream()
        let late = await Deadline.result(within: .milliseconds(50)) {
            try? await Task.sleep(for: .milliseconds(300))
            finish.yield(7)
            return 7
        }
        #expect(late == nil)
        var iterator = finished.makeAsyncIterator()
        #expect(await iterator.next() == 7, "the work was not cancelled")
    }
}
