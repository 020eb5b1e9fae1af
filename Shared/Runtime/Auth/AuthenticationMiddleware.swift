import Hummingbird

/// Requires a valid bearer token on every route behind it (401 otherwise) and records the
/// caller in the context.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = AftercareRequestContext
    let authority: TokenAuthority

    public init(authority: TokenAuthority) {
        self.authority = authority
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw ProblemDetails.unauthorized("A bearer token is required.")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw ProblemDetails.unauthorized("The Authorization header must be 'Bearer <token>'.")
        }
        var context = context
        do {
            let principal = try await authority.verify(String(parts[1]))
            context.principal = principal
            context.logger[metadataKey: "caller"] = "\(principal.role.rawValue):\(principal.subject)"
        } catch {
            throw ProblemDetails.unauthorized(error.detail)
        }
        return try await next(request, context)
    }
}

/// States which roles may call the routes behind it; others get 403. Every route group says
/// this explicitly, so "who may call this" is written next to the routes.
public struct RoleGate: RouterMiddleware {
    public typealias Context = AftercareRequestContext
    let allowed: Set<Role>

    public init(_ allowed: Role...) {
        self.allowed = Set(allowed)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let principal = try context.requirePrincipal()
        guard allowed.contains(principal.role) else {
            throw ProblemDetails.forbidden("The role \(principal.role.rawValue) may not call this endpoint.")
        }
        return try await next(request, context)
    }
}
