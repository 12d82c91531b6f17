import Foundation
import JobQueue
import Testing

@Suite("JobState")
struct JobStateTests {
    @Test("raw values are the lowercase words stored in PostgreSQL", arguments: [
        (JobState.available, "available"),
        (.scheduled, "scheduled"),
        (.running, "running"),
        (.retryable, "retryable"),
        (.completed, "completed"),
        (.discarded, "discarded"),
        (.cancelled, "cancelled"),
    ])
    func rawValuesAreStable(state: JobState, rawValue: String) {
        #expect(state.rawValue == rawValue)
        #expect(JobState(rawValue: rawValue) == state)
    }

    @Test("there are exactly seven states")
    func allCases() {
        #expect(JobState.allCases.count == 7)
    }

    @Test("only completed, discarded and cancelled are final", arguments: JobState.allCases)
    func finality(state: JobState) {
        #expect(state.isFinal == [.completed, .discarded, .cancelled].contains(state))
    }

    @Test("a state encodes as its raw value string")
    func codable() throws {
        let data = try JSONEncoder().encode([JobState.retryable])
        #expect(String(decoding: data, as: UTF8.self) == #"["retryable"]"#)
        #expect(try JSONDecoder().decode([JobState].self, from: data) == [.retryable])
    }
}
