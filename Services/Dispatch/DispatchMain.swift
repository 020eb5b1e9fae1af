import AftercareRuntime

/// Service catalog, technicians, appointments and service orders dispatched to crews.
@main
struct DispatchMain {
    static func main() async throws {
        let configuration = ServiceConfiguration.fromProcessEnvironment(service: .dispatch)
        let app = await buildApplication(configuration: configuration)
        try await app.runService(configuration: configuration)
    }
}
