import AftercareRuntime
import ArgumentParser
import Foundation

/// Mints a bearer token for local use: `JWT_SECRET=… aftercare-token --role guide --subject g-1 --dealer d-1 --store s-1`.
@main
struct AftercareToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aftercare-token",
        abstract: "Mint an Aftercare bearer token signed with JWT_SECRET (local and test use)."
    )

    @Option(help: "One of: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).")
    var role: String

    @Option(help: "Who the token is for (staff id, member id, or a tool's name).")
    var subject: String

    @Option(help: "Dealer scope.")
    var dealer: String?

    @Option(help: "Store scope.")
    var store: String?

    @Option(help: "Minutes until the token expires.")
    var ttlMinutes: Int = 60

    func run() async throws {
        guard let role = Role(rawValue: role) else {
            throw ValidationError("--role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (1...10_080).contains(ttlMinutes) else { throw ValidationError("--ttl-minutes must be between 1 and 10080") }
        let env = EnvironmentReader(ProcessInfo.processInfo.environment)
        let settings: JWTSettings
        do {
            settings = try JWTSettings(from: env)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
        let authority = await TokenAuthority(settings: settings)
        print(try await authority.sign(subject: subject, role: role, dealerID: dealer, storeID: store, validFor: .seconds(ttlMinutes * 60)))
    }
}
