import Flows

extension ZoomConnector: HealthReporting {
    /// A Server-to-Server OAuth token can be had (the cached one counts) and the API lists the
    /// host's meetings (read-only: it proves the API answers, the host exists and the app has
    /// the scope a retry needs to find a meeting whose creation was answered too late), or a
    /// standing link is set.
    public func health() async -> [HealthCheck] {
        var checks: [HealthCheck] = []
        if let api {
            do {
                _ = try await api.auth.accessToken()
                checks.append(.ok("oauth", "Server-to-Server OAuth token obtained", russian: "Zoom на связи: ключ доступа получен."))
                if let host = settings.host { checks.append(await listsMeetings(api, host: host)) }
            } catch let error as ConnectorError {
                checks.append(.error("oauth", error.message, russian: error.code == "zoom-oauth"
                    ? "Zoom не принимает данные приложения: проверьте ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET и что приложение активировано."
                    : "Zoom не выдал ключ доступа (временная ошибка или нет связи): встречи пока не создать."))
            } catch {
                checks.append(.error("oauth", "cannot reach Zoom's token endpoint: \(error)",
                                     russian: "Нет связи с Zoom: получить ключ доступа не удалось, встречи не создать."))
            }
            if settings.host == nil {
                checks.append(.warning("host", "ZOOM_HOST is not set: create_meeting needs the host's e-mail or user id",
                                       russian: "Не указан ведущий встреч (ZOOM_HOST): создать встречу не получится."))
            }
        }
        if settings.meetingURL != nil {
            checks.append(.ok("link", "standing meeting link configured (zoom.link)", russian: "Постоянная ссылка на встречу задана (zoom.link)."))
        }
        if checks.isEmpty {
            checks.append(.warning("setup", "neither API credentials (\(settings.missingCredentials.joined(separator: ", "))) nor a standing link (ZOOM_MEETING_URL)",
                                   russian: "Zoom не настроен: нет ни данных приложения Zoom, ни постоянной ссылки (ZOOM_MEETING_URL)."))
        }
        return checks
    }

    private func listsMeetings(_ api: ZoomAPI, host: String) async -> HealthCheck {
        do {
            _ = try await api.send("GET", "/users/\(Self.pathSegment(host))/meetings?type=upcoming&page_size=1")
            return .ok("api", "the API lists the meetings of the host (ZOOM_HOST)", russian: "Zoom API отвечает: встречи ведущего (ZOOM_HOST) доступны.")
        } catch {
            let detail = (error as? ConnectorError)?.message ?? "\(error)"
            return .error("api", "cannot list the meetings of the host (ZOOM_HOST): \(detail)",
                          russian: "Zoom API не отвечает для ведущего (ZOOM_HOST): встречу сейчас не создать. \(detail)")
        }
    }
}
