import AftercareJourney
import AftercareRuntime
import ArgumentParser
import AsyncHTTPClient
import Foundation

/// Walks the whole journey against a running suite and prints it as the people in it see it,
/// then a table of the hops' latencies: `scripts/demo` (which reads JWT_SECRET from the suite).
@main
struct AftercareDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aftercare-demo",
        abstract: "Walk a member's journey across the five running services through their public APIs."
    )

    @Option(help: "Membership's base URL.") var membership = SuiteAddresses.local.membership
    @Option(help: "Dispatch's base URL.") var dispatch = SuiteAddresses.local.dispatch
    @Option(help: "Coupon's base URL.") var coupon = SuiteAddresses.local.coupon
    @Option(help: "Notification's base URL.") var notification = SuiteAddresses.local.notification
    @Option(help: "Feedback's base URL.") var feedback = SuiteAddresses.local.feedback
    @Option(help: "The guide's callback deadline in minutes before the task climbs (1-1440).") var guideMinutes = 1

    func run() async throws {
        guard (1...1440).contains(guideMinutes) else { throw ValidationError("--guide-minutes must be between 1 and 1440") }
        let env = EnvironmentReader(ProcessInfo.processInfo.environment)
        let settings: JWTSettings
        do {
            settings = try JWTSettings(from: env)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        let addresses = SuiteAddresses(membership: membership, dispatch: dispatch, coupon: coupon, notification: notification, feedback: feedback)
        let run = String(UUID().uuidString.lowercased().prefix(8))
        print("Aftercare journey \(run): one member, from the purchase to the manager's call\n")
        var journey = Journey(
            at: addresses,
            client: JourneyClient(http: HTTPClient.shared),
            tokens: await TokenAuthority(settings: settings),
            run: run,
            say: { print($0) }
        )
        journey.guideMinutes = guideMinutes
        do {
            let report = try await journey.walk()
            print("\nThe journey took \(report.lines.count) steps. Hops between services (each from what set it off):\n")
            print(report.table)
        } catch let failure as JourneyFailure {
            print("\nThe journey stopped: \(failure)")
            throw ExitCode(1)
        }
    }
}
