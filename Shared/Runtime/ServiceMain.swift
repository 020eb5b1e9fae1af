import Foundation
import Logging

extension ServiceConfiguration {
    /// Reads the process environment. On a bad or missing variable it prints what is wrong,
    /// naming the variable, and exits with status 78 (EX_CONFIG): there is nothing to retry.
    public static func fromProcessEnvironment(service: ServiceIdentity) -> ServiceConfiguration {
        exitingOnConfigurationError(service) {
            let configuration = try ServiceConfiguration(
                service: service,
                environment: ProcessInfo.processInfo.environment,
                standardOutputIsTerminal: isatty(STDOUT_FILENO) == 1
            )
            LogBootstrap.bootstrap(level: configuration.logLevel, format: configuration.logFormat)
            return configuration
        }
    }

    /// A service's own settings read from the process environment; like the shared
    /// configuration, a bad value stops start-up with EX_CONFIG and names the variable.
    public static func serviceSettings<T>(service: ServiceIdentity, _ read: (EnvironmentReader) throws -> T) -> T {
        exitingOnConfigurationError(service) { try read(EnvironmentReader(ProcessInfo.processInfo.environment)) }
    }

    private static func exitingOnConfigurationError<T>(_ service: ServiceIdentity, _ body: () throws -> T) -> T {
        do {
            return try body()
        } catch {
            FileHandle.standardError.write(Data("aftercare-\(service.name): configuration error: \(error)\n".utf8))
            exit(78)
        }
    }
}
