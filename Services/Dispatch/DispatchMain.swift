import AftercareRuntime

/// Service catalog, technicians, appointments and service orders dispatched to crews.
@main
struct DispatchMain {
    static func main() async throws {
        let configuration = ServiceConfiguration.fromProcessEnvironment(service: .dispatch)
        let settings = ServiceConfiguration.serviceSettings(service: .dispatch, DispatchSettings.read)
        let app = await buildApplication(configuration: configuration, settings: settings)
        try await app.runService(configuration: configuration)
    }
}
