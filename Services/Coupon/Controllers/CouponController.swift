import AftercareRuntime
import Foundation
import Hummingbird

/// `POST /api/v1/coupons` (staff gift a template to a member in their scope;
/// `Idempotency-Key` honoured), `GET /api/v1/coupons` (a member's own; staff by member or
/// their scope), `GET /api/v1/coupons/{code}` (a code as typed or scanned, with its history),
/// `POST /{code}/redeem` (the desk, exactly once) and `POST /{code}/undo-redemption` (the
/// store's manager, within the window).
struct CouponController: Sendable {
    let desk: CouponDesk

    func addRoutes(to api: RouterGroup<AftercareRequestContext>) {
        let staff = RoleGate(.hqAdmin, .dealerAdmin, .storeManager, .guide)
        let everyone = RoleGate(.hqAdmin, .dealerAdmin, .storeManager, .guide, .member)
        api.group("coupons").add(middleware: staff)
            .post(use: issue)
            .post("{code}/redeem", use: redeem)
            .post("{code}/undo-redemption", use: undo)
        api.group("coupons").add(middleware: everyone)
            .get(use: list)
            .get("{code}", use: show)
    }

    @Sendable func issue(_ request: Request, context: AftercareRequestContext) async throws -> EditedResponse<Coupons.Coupon> {
        let body = try await request.decodeJSON(as: IssueRequest.self, context: context)
        let key = try request.idempotencyKey()
        let (coupon, created) = try await desk.issue(body, by: try context.requirePrincipal(), idempotencyKey: key)
        return EditedResponse(status: created ? .created : .ok, response: coupon)
    }

    @Sendable func list(_ request: Request, context: AftercareRequestContext) async throws -> CouponDesk.Listing {
        let query = request.uri.queryParameters
        let memberId = query.get("memberId").map { String($0) }
        if let memberId, !validateCode(memberId, field: "memberId").isEmpty {
            throw ProblemDetails.validation(field: "memberId", "must be a member id")
        }
        var status: Coupons.Status?
        if let raw = query.get("status") {
            guard let parsed = Coupons.Status(rawValue: String(raw)) else {
                throw ProblemDetails.validation(field: "status", "must be active, reserved, redeemed, consumed or expired")
            }
            status = parsed
        }
        var after: CouponDesk.Cursor?
        if let raw = query.get("after") {
            guard let cursor = CouponDesk.Cursor(String(raw)) else {
                throw ProblemDetails.validation(field: "after", "must be the next of an earlier page")
            }
            after = cursor
        }
        let limit = try request.integerQuery("limit", in: 1...200) ?? 200
        return try await desk.list(memberId: memberId, status: status, after: after, limit: limit, by: try context.requirePrincipal())
    }

    @Sendable func show(_ request: Request, context: AftercareRequestContext) async throws -> Coupons.Coupon {
        try await desk.lookup(try code(context), by: try context.requirePrincipal())
    }

    @Sendable func redeem(_ request: Request, context: AftercareRequestContext) async throws -> Coupons.Coupon {
        let body = try await request.decodeJSON(as: RedeemRequest.self, context: context)
        return try await desk.redeem(try code(context), memberId: body.memberId, by: try context.requirePrincipal())
    }

    @Sendable func undo(_ request: Request, context: AftercareRequestContext) async throws -> Coupons.Coupon {
        let body = try await request.decodeJSON(as: UndoRequest.self, context: context)
        return try await desk.undo(try code(context), reason: body.reason, by: try context.requirePrincipal())
    }

    private func code(_ context: AftercareRequestContext) throws -> String {
        guard let code = context.parameters.get("code") else { throw ProblemDetails.validation(field: "code", "is required") }
        return code
    }
}
