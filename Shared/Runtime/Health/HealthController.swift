import Hummingbird

/// `/health/live` says the process runs; `/health/ready` says its database and broker
/// answer and its loops (consumer, relay, timers) make progress (503 problem+json listing
/// the checks otherwise). Neither needs a token.
public struct HealthController: Sendable {
    let checks: [ReadinessCheck]

    public init(checks: [ReadinessCheck]) {
        self.checks = checks
    }

    struct Status: ResponseEncodable {
        let status: String
        let checks: [String: String]?
    }

    public func addRoutes(to router: Router<AftercareRequestContext>) {
        router.get("/health/live") { _, _ in Status(status: "live", checks: nil) }
        router.get("/health/ready") { _, _ in try await ready() }
    }

    func ready() async throws -> Status {
        let results = await withTaskGroup(of: (String, Bool).self) { group in
            for check in checks {
                group.addTask { (check.name, await check.probe()) }
            }
            var results: [String: String] = [:]
            for await (name, up) in group { results[name] = up ? "up" : "down" }
            return results
        }
        guard results.values.allSatisfy({ $0 == "up" }) else {
            var problem = ProblemDetails(status: .serviceUnavailable, detail: "Not ready: a dependency does not answer.")
            problem.checks = results
            throw problem
        }
        return Status(status: "ready", checks: results)
    }
}
