import Foundation
import Hummingbird

/// The request context of every Aftercare route: who is calling, once authenticated.
public struct AftercareRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthenticationMiddleware`; routes behind it can rely on it being present.
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    /// `BodyLimitMiddleware` enforces the configured limit with a clear 413 before any
    /// handler reads the body; the framework's own cap would only duplicate it.
    public var maxUploadSize: Int { .max }

    /// Sorted keys: responses read the same every time (and diff cleanly).
    public var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The authenticated caller. Throws 401 if a route forgot its authentication middleware,
    /// so a wiring mistake fails closed.
    public func requirePrincipal() throws -> Principal {
        guard let principal else { throw ProblemDetails.unauthorized("A bearer token is required.") }
        return principal
    }
}
