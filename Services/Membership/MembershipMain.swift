import AftercareRuntime

/// Members bound to guides and stores, purchases, points and tiers.
@main
struct MembershipMain {
    static func main() async throws {
        let configuration = ServiceConfiguration.fromProcessEnvironment(service: .membership)
        let app = await buildApplication(configuration: configuration)
        try await app.runService()
    }
}
