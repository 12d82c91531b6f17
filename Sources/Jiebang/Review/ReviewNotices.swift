import Foundation
public import Postgres

/// Tells experts of their new seats (`review.assigned`), in the transaction that seats them.
enum ReviewNotices {
    /// One notification per expert with new rows in the round since `subject` (the draw or the
    /// replacement it is about), counting seats and alternates.
    static func tellExperts(roundID: Int, experts: [Int], subject: String, on tx: PostgresConnection) async throws {
        guard !experts.isEmpty else { return }
        let (name, deadline) = try await tx.query("SELECT name, scoring_deadline FROM review_rounds WHERE id = \(roundID)")
            .first!.decode((String, Date).self)
        let rows = try await tx.query(
            """
            SELECT expert_id, count(*) FILTER (WHERE role = 'panel'), count(*) FILTER (WHERE role = 'alternate')
            FROM review_assignments
            WHERE round_id = \(roundID) AND status = 'active' AND expert_id = ANY(\(experts))
            GROUP BY expert_id ORDER BY expert_id
            """
        ).decode((Int, Int, Int).self)
        let template = NotificationTemplate.of(.reviewAssigned)
        var messages: [NotificationStore.Message] = []
        for (expert, seats, alternates) in rows {
            let (title, body) = try template.render([
                "round": name, "count": String(seats + alternates), "seats": String(seats), "alternates": String(alternates),
                "deadline": Shanghai.text(deadline),
            ])
            messages.append(
                .init(
                    userID: expert, occasion: .reviewAssigned, subject: subject, title: title, body: body,
                    link: "/v1/expert/assignments"))
        }
        try await NotificationStore.send(messages, on: tx)
    }
}
