import AftercareContracts
import Foundation
import JWTKit

/// The claims of an Aftercare bearer token.
public struct AccessClaims: JWTPayload, Equatable {
    public var sub: SubjectClaim
    public var role: Role
    public var dealerID: String?
    public var storeID: String?
    public var iss: IssuerClaim
    public var aud: AudienceClaim
    public var exp: ExpirationClaim
    public var iat: IssuedAtClaim?

    enum CodingKeys: String, CodingKey {
        case sub, role, iss, aud, exp, iat
        case dealerID = "dealer_id"
        case storeID = "store_id"
    }

    public init(
        subject: String,
        role: Role,
        dealerID: String?,
        storeID: String?,
        issuer: String,
        audience: String,
        expires: Date,
        issuedAt: Date = Date()
    ) {
        self.sub = SubjectClaim(value: subject)
        self.role = role
        self.dealerID = dealerID
        self.storeID = storeID
        self.iss = IssuerClaim(value: issuer)
        self.aud = AudienceClaim(value: [audience])
        self.exp = ExpirationClaim(value: expires)
        self.iat = IssuedAtClaim(value: issuedAt)
    }

    /// Signature checks happen in JWTKit; issuer and audience are checked by `TokenAuthority`,
    /// which knows what to expect.
    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }

    /// A subject that is a UUID (a member) in any case becomes the lower-case id, so it
    /// equals the ids the services store and compare it with.
    var principal: Principal {
        Principal(subject: UUID.canonical(sub.value), role: role, dealerID: dealerID, storeID: storeID)
    }
}
