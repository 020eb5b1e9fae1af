import AftercareRuntime

/// Members bound to guides and stores, purchases, points and tiers.
@main
struct MembershipMain {
    static func main() async throws {
        let configuration = ServiceConfiguration.fromProcessEnvironment(service: .membership)
        let loyalty = ServiceConfiguration.serviceSettings(service: .membership, LoyaltySettings.read)
        let app = await buildApplication(configuration: configuration, loyalty: loyalty)
        try await app.runService(configuration: configuration)
    }
}
