import AftercareRuntime
import AftercareTestSupport
import Foundation
import HTTPTypes
import Testing

extension Executables {
    /// Every id the API hands out works when handed back, as it was returned: in the next call's
    /// path, in a body, and as the subject of a token. Ids are written in one form (lower-case
    /// UUIDs) and compared as ids, so an upper-case copy works too.
    @Suite("Ids round-trip through the API, bodies and tokens", .serialized, .timeLimit(.minutes(4)))
    struct IdentifierRoundTripTests {
        /// The UUIDs in a response body that are not in the one written form.
        func nonCanonicalIDs(in body: String) throws -> [String] {
            let uuid = try NSRegularExpression(pattern: "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
            return uuid.matches(in: body, range: NSRange(body.startIndex..., in: body)).compactMap { match in
                Range(match.range, in: body).map { String(body[$0]) }
            }.filter { $0 != $0.lowercased() }
        }

        func field(_ name: String, of body: String) throws -> String {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "\(body)")
            return try #require(object[name] as? String, "no \(name) in \(body)")
        }

        @Test("a member registered by a guide reads their record and opens a complaint with the id as returned, in any case")
        func memberAndComplaint() async throws {
            let membership = try ServiceProcess(executable: "MembershipService", service: "membership", port: try freePort())
            let feedback = try ServiceProcess(executable: "FeedbackService", service: "feedback", port: try freePort())
            try membership.start()
            try feedback.start()
            defer {
                Task {
                    _ = await membership.terminate()
                    _ = await feedback.terminate()
                }
            }
            for process in [membership, feedback] {
                try #require(await eventually(timeout: .seconds(60)) { await process.get("/health/ready")?.status == 200 }, "\(process.log)")
            }
            let run = UUID().uuidString.prefix(8).lowercased()
            let (dealer, store, guide) = ("d-\(run)", "s-\(run)", "g-\(run)")
            let hq = try await ServiceProcess.token(subject: "hq-1", role: .hqAdmin)
            var answers: [String] = []
            func call(
                _ process: ServiceProcess,
                _ method: HTTPRequest.Method,
                _ path: String,
                _ token: String,
                _ body: String? = nil,
                expect status: Int
            ) async throws -> String {
                let answer = try #require(await process.request(method, path, token: token, body: body), "\(method) \(path) got no answer")
                #expect(answer.status == status, "\(method) \(path): \(answer.status) \(answer.body)")
                answers.append(answer.body)
                return answer.body
            }
            _ = try await call(membership, .post, "/api/v1/dealers", hq, #"{"id": "\#(dealer)", "name": "Dealer \#(run)"}"#, expect: 201)
            _ = try await call(
                membership,
                .post,
                "/api/v1/stores",
                hq,
                #"{"id": "\#(store)", "dealerId": "\#(dealer)", "name": "Store", "timeZone": "Asia/Shanghai"}"#,
                expect: 201
            )
            _ = try await call(
                membership,
                .post,
                "/api/v1/staff",
                hq,
                #"{"id": "\#(guide)", "dealerId": "\#(dealer)", "storeId": "\#(store)", "role": "guide", "name": "Li Na", "phone": "13700000001"}"#,
                expect: 201
            )
            let guideToken = try await ServiceProcess.token(subject: guide, role: .guide, dealerID: dealer, storeID: store)
            let phone = "139" + String(UInt32.random(in: 10_000_000...99_999_999))
            let registered = try await call(
                membership,
                .post,
                "/api/v1/members",
                guideToken,
                #"{"phone": "\#(phone)", "name": "Wang", "serviceMessagesConsent": true, "marketingConsent": false}"#,
                expect: 201
            )
            let memberId = try field("id", of: registered)

            // The id as returned, and the same id in upper case, both name the member.
            for subject in [memberId, memberId.uppercased()] {
                let memberToken = try await ServiceProcess.token(subject: subject, role: .member)
                _ = try await call(membership, .get, "/api/v1/members/\(memberId)", memberToken, expect: 200)
                _ = try await call(membership, .get, "/api/v1/members/\(subject)", memberToken, expect: 200)
            }

            // Feedback knows the member once membership's event arrived; then the member complains.
            let memberToken = try await ServiceProcess.token(subject: memberId, role: .member)
            let complaint = #"{"channel": "mini_program", "category": "product_quality", "severity": "high", "description": "The mattress sags."}"#
            var opened: String?
            #expect(
                await eventually(timeout: .seconds(30)) {
                    guard let answer = await feedback.request(.post, "/api/v1/complaints", token: memberToken, body: complaint), answer.status == 201
                    else { return false }
                    opened = answer.body
                    return true
                },
                "the member's complaint was not accepted"
            )
            let openedBody = try #require(opened)
            answers.append(openedBody)
            let complaintId = try field("complaintId", of: openedBody)
            _ = try await call(feedback, .get, "/api/v1/complaints/\(complaintId)", memberToken, expect: 200)
            let task = try #require(try JSONSerialization.jsonObject(with: Data(openedBody.utf8)) as? [String: Any])["callbackTask"] as? [String: Any]
            let taskId = try #require(task?["id"] as? String)
            _ = try await call(feedback, .get, "/api/v1/callback-tasks/\(taskId)", guideToken, expect: 200)

            // Staff name the member in a body, in upper case: compared as an id, it is the same member.
            _ = try await call(
                feedback,
                .post,
                "/api/v1/complaints",
                guideToken,
                #"{"memberId": "\#(memberId.uppercased())", "channel": "in_store", "category": "other", "severity": "low", "description": "Asked again."}"#,
                expect: 201
            )
            for body in answers { #expect(try nonCanonicalIDs(in: body).isEmpty, "ids not in lower case: \(body)") }
        }
    }
}
