import Foundation
import JWTKit

/// Verifies (and, for tools and tests, signs) HS256 bearer tokens with the configured
/// secret, issuer and audience.
public struct TokenAuthority: Sendable {
    private let keys: JWTKeyCollection
    private let settings: JWTSettings

    public init(settings: JWTSettings) async {
        self.settings = settings
        self.keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: settings.secret), digestAlgorithm: .sha256)
    }

    public enum Rejection: Error, Equatable {
        case malformedOrBadSignature
        case expired
        case wrongIssuer
        case wrongAudience

        /// What the 401 says: enough to fix a client, nothing to help a forger.
        public var detail: String {
            switch self {
            case .malformedOrBadSignature: "The bearer token is malformed or its signature is invalid."
            case .expired: "The bearer token has expired."
            case .wrongIssuer: "The bearer token was not issued by this platform."
            case .wrongAudience: "The bearer token is not meant for this platform."
            }
        }
    }

    public func verify(_ token: String) async throws(Rejection) -> Principal {
        let claims: AccessClaims
        do {
            claims = try await keys.verify(token, as: AccessClaims.self)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw .expired
        } catch {
            throw .malformedOrBadSignature
        }
        guard claims.iss.value == settings.issuer else { throw .wrongIssuer }
        do {
            try claims.aud.verifyIntendedAudience(includes: settings.audience)
        } catch {
            throw .wrongAudience
        }
        return claims.principal
    }

    public func sign(
        subject: String,
        role: Role,
        dealerID: String? = nil,
        storeID: String? = nil,
        validFor: Duration = .seconds(3600),
        now: Date = Date()
    ) async throws -> String {
        let claims = AccessClaims(
            subject: subject,
            role: role,
            dealerID: dealerID,
            storeID: storeID,
            issuer: settings.issuer,
            audience: settings.audience,
            expires: now.addingTimeInterval(Double(validFor.components.seconds)),
            issuedAt: now
        )
        return try await keys.sign(claims)
    }
}
