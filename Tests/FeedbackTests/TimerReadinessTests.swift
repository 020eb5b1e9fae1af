import AftercareRuntime
import AftercareTestSupport
import Foundation
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import FeedbackService

@Suite("Readiness follows the durable timers", .timeLimit(.minutes(3)))
struct TimerReadinessTests {
    func timersCheck(_ client: some TestClientProtocol) async throws -> String? {
        try await client.execute(uri: "/health/ready", method: .get) { response in
            let body = try JSONDecoder().decode(ReadyAnswer.self, from: Data(buffer: response.body))
            return body.checks?["timers"]
        }
    }

    struct ReadyAnswer: Decodable { let checks: [String: String]? }

    @Test("a job worker that cannot claim its jobs while the database answers is not ready, and is again once it can")
    func timersDownWhileJobsCannotBeClaimed() async throws {
        try await FeedbackFixture.with { fixture in
            var configuration = fixture.configuration
            configuration.timersStallAfter = .seconds(3)
            let app = await buildApplication(configuration: configuration, settings: FeedbackSettings(), clock: fixture.clock)
            try await app.test(.live) { client in
                try await waitReady("feedback", client)
                #expect(try await timersCheck(client) == "up")
                // A transaction that keeps the jobs table locked: every claim waits, `SELECT 1` does not.
                let down = try await fixture.database.withConnection { holder in
                    try await holder.query("BEGIN", logger: TestEnvironment.logger)
                    try await holder.query("LOCK TABLE scheduled_jobs IN ACCESS EXCLUSIVE MODE", logger: TestEnvironment.logger)
                    let down = try await eventually(timeout: .seconds(20)) { try await timersCheck(client) == "down" }
                    try await holder.query("COMMIT", logger: TestEnvironment.logger)
                    return down
                }
                #expect(down, "readiness kept timers up while no job could be claimed")
                let up = try await eventually(timeout: .seconds(40)) { try await timersCheck(client) == "up" }
                #expect(up, "timers stayed down after the jobs table was free again")
            }
        }
    }
}
