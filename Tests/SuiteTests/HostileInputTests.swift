import AftercareRuntime
import AftercareTestSupport
import Foundation
import HTTPTypes
import Testing

extension Executables {
    /// No request can stop a service: every route that takes a number gets the extremes of the
    /// 64-bit range, values past them, sums that pass them and fractions, and every answer is a
    /// 422 naming the field; the process answers afterwards. Run against the real executables,
    /// since a trap would end the test process too.
    @Suite("Hostile input leaves every service running", .serialized, .timeLimit(.minutes(4)))
    struct HostileInputTests {
        /// One numeric field of one route: `body` with `X` where the value goes (nil for a query).
        /// `inRange` are extremes the field takes as they are (the answer then only has to be no
        /// server error); `keyed` routes need an `Idempotency-Key`.
        struct NumericField: Sendable, CustomStringConvertible {
            let method: HTTPRequest.Method
            let path: String
            let role: Role
            let field: String
            let body: String?
            var inRange: Set<String> = []
            var keyed = false
            var description: String { "\(method) \(path) \(field)" }
        }

        static let member = UUID().uuidString.lowercased()
        static let extremes = ["-9223372036854775808", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1.5", "1e300"]

        static let membership: [NumericField] = [
            .init(
                method: .post,
                path: "/api/v1/members/\(member)/purchases",
                role: .hqAdmin,
                field: "amountCents",
                body:
                    #"{"orderId": "o-1", "storeId": "s-1", "amountCents": X, "items": [{"sku": "m", "category": "mattress", "quantity": 1, "amountCents": 100}]}"#
            ),
            .init(
                method: .post,
                path: "/api/v1/members/\(member)/purchases",
                role: .hqAdmin,
                field: "items[0].amountCents",
                body:
                    #"{"orderId": "o-1", "storeId": "s-1", "amountCents": 100, "items": [{"sku": "m", "category": "mattress", "quantity": 1, "amountCents": X}]}"#
            ),
            .init(
                method: .post,
                path: "/api/v1/members/\(member)/purchases",
                role: .hqAdmin,
                field: "items[0].quantity",
                body:
                    #"{"orderId": "o-1", "storeId": "s-1", "amountCents": 100, "items": [{"sku": "m", "category": "mattress", "quantity": X, "amountCents": 100}]}"#
            ),
            .init(
                method: .post,
                path: "/api/v1/members/\(member)/points/redemptions",
                role: .member,
                field: "points",
                body: #"{"points": X}"#,
                keyed: true
            ),
            .init(
                method: .post,
                path: "/api/v1/members/\(member)/points/adjustments",
                role: .hqAdmin,
                field: "points",
                body: #"{"points": X, "reason": "r"}"#,
                keyed: true
            ),
            .init(
                method: .put,
                path: "/api/v1/tiers",
                role: .hqAdmin,
                field: "tiers[0].thresholdCents",
                body: #"{"tiers": [{"name": "member", "thresholdCents": X, "multiplier": 1}]}"#
            ),
            .init(method: .put, path: "/api/v1/stores/s-1/sales/2026-03-01", role: .hqAdmin, field: "totalCents", body: #"{"totalCents": X}"#),
            .init(
                method: .post,
                path: "/api/v1/members",
                role: .guide,
                field: "birthday.month",
                body: #"{"phone": "13800000000", "serviceMessagesConsent": true, "marketingConsent": false, "birthday": {"month": X, "day": 1}}"#
            ),
            .init(method: .get, path: "/api/v1/members?limit=X", role: .hqAdmin, field: "limit", body: nil),
            .init(
                method: .get,
                path: "/api/v1/members/\(member)/points?before=X",
                role: .member,
                field: "before",
                body: nil,
                inRange: ["9223372036854775807"]
            ),
        ]

        static let feedback: [NumericField] = [
            .init(
                method: .post,
                path: "/api/v1/callback-tasks/\(member)/calls",
                role: .guide,
                field: "retryInMinutes",
                body: #"{"reached": false, "retryInMinutes": X}"#
            ),
            .init(
                method: .put,
                path: "/api/v1/dealers/d-1/escalation-policy",
                role: .hqAdmin,
                field: "guideMinutes",
                body: #"{"guideMinutes": X, "storeManagerMinutes": 5, "dealerAdminMinutes": 10}"#
            ),
            .init(
                method: .post,
                path: "/api/v1/review-requests/\(member)/review",
                role: .member,
                field: "visitRating",
                body: #"{"visitRating": X, "technicianRatings": []}"#
            ),
            .init(method: .get, path: "/api/v1/ops/dead-letters?limit=X", role: .hqAdmin, field: "limit", body: nil),
            .init(method: .post, path: "/api/v1/ops/dead-letters/replay", role: .hqAdmin, field: "limit", body: #"{"limit": X}"#),
        ]

        static let dispatch: [NumericField] = [
            .init(method: .get, path: "/api/v1/slots?serviceType=mite_removal&days=X", role: .member, field: "days", body: nil),
            .init(method: .get, path: "/api/v1/service-due?limit=X", role: .guide, field: "limit", body: nil),
            .init(
                method: .put,
                path: "/api/v1/technicians/t-1/profile",
                role: .hqAdmin,
                field: "visitsPerDay",
                body: #"{"skills": [], "territory": [], "hours": [], "daysOff": [], "visitsPerDay": X}"#
            ),
            .init(
                method: .put,
                path: "/api/v1/technicians/t-1/profile",
                role: .hqAdmin,
                field: "hours[0].weekday",
                body: #"{"skills": [], "territory": [], "hours": [{"weekday": X, "from": "09:00", "to": "18:00"}], "daysOff": [], "visitsPerDay": 3}"#
            ),
            .init(
                method: .put,
                path: "/api/v1/service-types/sofa",
                role: .hqAdmin,
                field: "durationMinutes",
                body: #"{"name": "Sofa", "durationMinutes": X, "crewSize": 1, "categories": ["sofa"], "steps": [{"title": "Clean"}]}"#
            ),
            .init(method: .put, path: "/api/v1/orders/\(member)/steps/X", role: .technician, field: "step", body: "{}"),
            .init(
                method: .put,
                path: "/api/v1/orders/\(member)/seats/X",
                role: .hqAdmin,
                field: "seat",
                body: #"{"technicianId": "t-1", "reason": "r"}"#
            ),
        ]

        static let coupon: [NumericField] = {
            let fields = ["amountCents", "validDays", "quantity", "perMember", "guideMonthly"].map { field in
                var values = ["amountCents": "100", "validDays": "30"]
                values[field] = "X"
                let rest = values.sorted { $0.key < $1.key }.map { #""\#($0.key)": \#($0.value)"# }.joined(separator: ", ")
                let body = #"{"name": "T", "kind": "amount_off", "# + rest + "}"
                return NumericField(method: .post, path: "/api/v1/coupon-templates", role: .hqAdmin, field: field, body: body)
            }
            let percent = #"{"name": "T", "kind": "percent_off", "percent": X, "capCents": 100, "validDays": 30}"#
            let cap = #"{"name": "T", "kind": "percent_off", "percent": 10, "capCents": X, "validDays": 30}"#
            let event = #"{"name": "E", "storeId": "s-1", "startsAt": "2030-01-01T09:00:00Z", "endsAt": "2030-01-01T12:00:00Z", "#
            return fields + [
                .init(method: .post, path: "/api/v1/coupon-templates", role: .hqAdmin, field: "percent", body: percent),
                .init(method: .post, path: "/api/v1/coupon-templates", role: .hqAdmin, field: "capCents", body: cap),
                .init(
                    method: .post,
                    path: "/api/v1/store-events",
                    role: .hqAdmin,
                    field: "capacity",
                    body: event + #""giftTemplateId": "\#(UUID())", "capacity": X}"#
                ),
            ]
        }()

        static let notification: [NumericField] = [
            .init(method: .get, path: "/api/v1/deliveries?limit=X", role: .hqAdmin, field: "limit", body: nil),
            .init(method: .get, path: "/api/v1/inbox?limit=X", role: .member, field: "limit", body: nil),
        ]

        @Test("membership answers every extreme with a 422 naming the field, and keeps running")
        func membershipExtremes() async throws {
            try await exercise("MembershipService", "membership", Self.membership) { process, token in
                // Two items whose amounts add up past the 64-bit range.
                let body =
                    #"{"orderId": "o-2", "storeId": "s-1", "amountCents": 100, "items": [{"sku": "a", "category": "c", "quantity": 1, "amountCents": 9223372036854775807}, {"sku": "b", "category": "c", "quantity": 1, "amountCents": 9223372036854775807}]}"#
                let answer = await process.request(.post, "/api/v1/members/\(Self.member)/purchases", token: try await token(.hqAdmin), body: body)
                #expect(answer?.status == 422 && answer?.body.contains("items[0].amountCents") == true, "\(String(describing: answer))")
                // Offset names on which Foundation's time zone lookup traps, from a guide.
                for zone in ["GMT+01:!0", "UTC+01:z0", "GMT+01:é0"] {
                    let store = #"{"id": "s-9", "dealerId": "d-1", "name": "S", "timeZone": "\#(zone)"}"#
                    let refused = await process.request(.post, "/api/v1/stores", token: try await token(.guide), body: store)
                    #expect(
                        refused?.status == 422 && refused?.body.contains("\"field\":\"timeZone\"") == true,
                        "\(zone): \(String(describing: refused))"
                    )
                }
            }
        }

        @Test("feedback answers every extreme with a 422 naming the field, and keeps running")
        func feedbackExtremes() async throws {
            try await exercise("FeedbackService", "feedback", Self.feedback) { _, _ in }
        }

        @Test("dispatch answers every extreme with a 422 naming the field, and keeps running")
        func dispatchExtremes() async throws {
            try await exercise("DispatchService", "dispatch", Self.dispatch) { _, _ in }
        }

        @Test("coupon answers every extreme with a 422 naming the field, and keeps running")
        func couponExtremes() async throws {
            try await exercise("CouponService", "coupon", Self.coupon) { _, _ in }
        }

        @Test("notification answers every extreme with a 422 naming the field, and keeps running")
        func notificationExtremes() async throws {
            try await exercise("NotificationService", "notification", Self.notification) { _, _ in }
        }

        func exercise(
            _ executable: String,
            _ service: String,
            _ fields: [NumericField],
            more: (ServiceProcess, (Role) async throws -> String) async throws -> Void
        ) async throws {
            let process = try ServiceProcess(executable: executable, service: service, port: try freePort())
            try process.start()
            defer { Task { _ = await process.terminate() } }
            try #require(await eventually(timeout: .seconds(60)) { await process.get("/health/ready")?.status == 200 }, "\(process.log)")
            let token: (Role) async throws -> String = { role in
                try await ServiceProcess.token(
                    subject: role == .member ? Self.member : "\(role.rawValue)-1",
                    role: role,
                    dealerID: "d-1",
                    storeID: "s-1"
                )
            }
            for field in fields {
                for value in Self.extremes {
                    let path = field.path.replacingOccurrences(of: "X", with: value.replacingOccurrences(of: "+", with: "%2B"))
                    let answer = await process.request(
                        field.method,
                        path,
                        token: try await token(field.role),
                        body: field.body?.replacingOccurrences(of: "X", with: value),
                        headers: field.keyed ? [.idempotencyKey: "hostile-\(value)"] : [:]
                    )
                    if field.inRange.contains(value) {
                        #expect((answer?.status ?? 500) < 500, "\(field) = \(value): \(String(describing: answer))")
                        continue
                    }
                    let named = answer.map { $0.body.contains("\"field\":\"\(field.field)\"") } ?? false
                    #expect(answer?.status == 422 && named, "\(field) = \(value): \(String(describing: answer))")
                }
            }
            try await more(process, token)
            #expect(await process.get("/health/live")?.status == 200, "\(executable) stopped answering:\n\(process.log.suffix(2000))")
            #expect(process.process.isRunning)
            #expect(!process.log.contains("Fatal error"), "\(process.log.suffix(2000))")
        }
    }
}
