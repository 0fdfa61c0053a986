//! The message texts, one table per language: fixed words with `{name}` placeholders that
//! `templates.rs` fills in. Keep them short, plain and correct; a new language is one more table.

/// One language's texts. `{name}` marks where a value goes; the pair is (subject, first paragraph).
pub(super) struct Texts {
    pub(super) code_subject: &'static str,
    pub(super) code_intro: &'static str,
    pub(super) code_use: &'static str,
    pub(super) requested_at: &'static str,
    pub(super) not_you_code: &'static str,
    pub(super) minutes: (&'static str, &'static str),
    pub(super) seconds: (&'static str, &'static str),
    pub(super) label_reference: &'static str,
    pub(super) label_time: &'static str,
    pub(super) label_kiosk: &'static str,
    pub(super) not_you: &'static str,
    pub(super) try_again: &'static str,
    pub(super) admin_footer: &'static str,
    /// Reset, unlock, both (in `change_index` order).
    pub(super) changes: [&'static str; 3],
    pub(super) reset: (&'static str, &'static str),
    pub(super) unlocked: (&'static str, &'static str),
    pub(super) reset_unlocked: (&'static str, &'static str),
    pub(super) changed: (&'static str, &'static str),
    pub(super) queued_applied: (&'static str, &'static str),
    pub(super) queued_rejected: (&'static str, &'static str),
    pub(super) queued_expired: (&'static str, &'static str),
    pub(super) lockout: (&'static str, &'static str),
    pub(super) privileged: (&'static str, &'static str),
    pub(super) lockout_alert: (&'static str, &'static str),
    pub(super) throttled: (&'static str, &'static str),
}

pub(super) const EN: Texts = Texts {
    code_subject: "Your verification code",
    code_intro: "Your verification code is:",
    code_use: "Enter it on the kiosk screen. It is valid for {validity} and can be used once.",
    requested_at: "Requested at kiosk {kiosk} ({location}).",
    not_you_code: "If this wasn't you, do not pass the code on to anyone and call the helpdesk: {helpdesk}",
    minutes: ("minute", "minutes"),
    seconds: ("second", "seconds"),
    label_reference: "Reference",
    label_time: "Time",
    label_kiosk: "Kiosk",
    not_you: "If this wasn't you, call the helpdesk now: {helpdesk}",
    try_again: "Please try again at a kiosk or call the helpdesk: {helpdesk}",
    admin_footer: "Look up this reference in the kiosk's audit log for details.",
    changes: [
        "password reset",
        "account unlock",
        "password reset and account unlock",
    ],
    reset: (
        "Your password was reset",
        "Your password was reset at a self-service kiosk.",
    ),
    unlocked: (
        "Your account was unlocked",
        "Your account was unlocked at a self-service kiosk. Your password did not change.",
    ),
    reset_unlocked: (
        "Your password was reset and your account unlocked",
        "Your password was reset and your account unlocked at a self-service kiosk.",
    ),
    changed: (
        "Your password was changed",
        "Your password was changed at a self-service kiosk.",
    ),
    queued_applied: (
        "Your request has been completed",
        "Your request from a self-service kiosk ({change}) has now been applied.",
    ),
    queued_rejected: (
        "Your request was not applied",
        "Your request from a self-service kiosk ({change}) was refused by the directory. Nothing was \
         changed; your previous password still applies.",
    ),
    queued_expired: (
        "Your request has expired",
        "Your request from a self-service kiosk ({change}) could not be applied in time and has \
         expired. Nothing was changed; your previous password still applies.",
    ),
    lockout: (
        "Password self-service is blocked for your account",
        "There were too many failed verification attempts for your account. Password self-service \
         is blocked for it until {until}.",
    ),
    privileged: (
        "[{kiosk}] Privileged account changed",
        "A privileged account was changed through self-service: {account} ({change}).",
    ),
    lockout_alert: (
        "[{kiosk}] Self-service lockout",
        "Self-service is blocked for {account} after {failures} failed verification attempts, until \
         {until}.",
    ),
    throttled: (
        "[{kiosk}] Kiosk throttled",
        "This kiosk saw {failures} failed verifications in a short time and pauses self-service until \
         {until}.",
    ),
};

pub(super) const DE: Texts = Texts {
    code_subject: "Ihr Bestätigungscode",
    code_intro: "Ihr Bestätigungscode lautet:",
    code_use: "Geben Sie ihn am Bildschirm des Terminals ein. Er ist {validity} gültig und nur einmal \
               verwendbar.",
    requested_at: "Angefordert am Terminal {kiosk} ({location}).",
    not_you_code: "Falls Sie das nicht waren, geben Sie den Code an niemanden weiter und rufen Sie den \
                   Helpdesk an: {helpdesk}",
    minutes: ("Minute", "Minuten"),
    seconds: ("Sekunde", "Sekunden"),
    label_reference: "Referenz",
    label_time: "Zeit",
    label_kiosk: "Terminal",
    not_you: "Falls Sie das nicht waren, rufen Sie sofort den Helpdesk an: {helpdesk}",
    try_again: "Bitte versuchen Sie es erneut an einem Terminal oder rufen Sie den Helpdesk an: \
                {helpdesk}",
    admin_footer: "Details stehen im Audit-Protokoll des Terminals unter dieser Referenz.",
    changes: [
        "Passwort zurücksetzen",
        "Konto entsperren",
        "Passwort zurücksetzen und Konto entsperren",
    ],
    reset: (
        "Ihr Passwort wurde zurückgesetzt",
        "Ihr Passwort wurde an einem Self-Service-Terminal zurückgesetzt.",
    ),
    unlocked: (
        "Ihr Konto wurde entsperrt",
        "Ihr Konto wurde an einem Self-Service-Terminal entsperrt. Ihr Passwort wurde nicht geändert.",
    ),
    reset_unlocked: (
        "Ihr Passwort wurde zurückgesetzt und Ihr Konto entsperrt",
        "Ihr Passwort wurde an einem Self-Service-Terminal zurückgesetzt und Ihr Konto entsperrt.",
    ),
    changed: (
        "Ihr Passwort wurde geändert",
        "Ihr Passwort wurde an einem Self-Service-Terminal geändert.",
    ),
    queued_applied: (
        "Ihre Anfrage wurde ausgeführt",
        "Ihre Anfrage an einem Self-Service-Terminal ({change}) wurde jetzt ausgeführt.",
    ),
    queued_rejected: (
        "Ihre Anfrage wurde nicht ausgeführt",
        "Ihre Anfrage an einem Self-Service-Terminal ({change}) wurde vom Verzeichnisdienst \
         abgelehnt. Es wurde nichts geändert; Ihr bisheriges Passwort gilt weiter.",
    ),
    queued_expired: (
        "Ihre Anfrage ist abgelaufen",
        "Ihre Anfrage an einem Self-Service-Terminal ({change}) konnte nicht rechtzeitig ausgeführt \
         werden und ist abgelaufen. Es wurde nichts geändert; Ihr bisheriges Passwort gilt weiter.",
    ),
    lockout: (
        "Passwort-Self-Service für Ihr Konto gesperrt",
        "Für Ihr Konto gab es zu viele fehlgeschlagene Bestätigungsversuche. Der \
         Passwort-Self-Service ist für Ihr Konto bis {until} gesperrt.",
    ),
    privileged: (
        "[{kiosk}] Privilegiertes Konto geändert",
        "Ein privilegiertes Konto wurde per Self-Service geändert: {account} ({change}).",
    ),
    lockout_alert: (
        "[{kiosk}] Self-Service-Sperre",
        "Der Self-Service für {account} ist nach {failures} fehlgeschlagenen Bestätigungsversuchen \
         bis {until} gesperrt.",
    ),
    throttled: (
        "[{kiosk}] Terminal gedrosselt",
        "Dieses Terminal hat in kurzer Zeit {failures} fehlgeschlagene Bestätigungen gesehen und \
         pausiert den Self-Service bis {until}.",
    ),
};

pub(super) const FR: Texts = Texts {
    code_subject: "Votre code de vérification",
    code_intro: "Votre code de vérification est\u{a0}:",
    code_use: "Saisissez-le sur l’écran de la borne. Il est valable {validity} et ne peut servir \
               qu’une fois.",
    requested_at: "Demandé à la borne {kiosk} ({location}).",
    not_you_code: "Si vous n’êtes pas à l’origine de cette demande, ne communiquez ce code à personne \
                   et appelez le support\u{a0}: {helpdesk}",
    minutes: ("minute", "minutes"),
    seconds: ("seconde", "secondes"),
    label_reference: "Référence",
    label_time: "Heure",
    label_kiosk: "Borne",
    not_you: "Si vous n’êtes pas à l’origine de cette action, appelez immédiatement le support\u{a0}: \
              {helpdesk}",
    try_again: "Veuillez réessayer à une borne ou appeler le support\u{a0}: {helpdesk}",
    admin_footer: "Les détails figurent dans le journal d’audit de la borne sous cette référence.",
    changes: [
        "réinitialisation du mot de passe",
        "déverrouillage du compte",
        "réinitialisation du mot de passe et déverrouillage du compte",
    ],
    reset: (
        "Votre mot de passe a été réinitialisé",
        "Votre mot de passe a été réinitialisé à une borne libre-service.",
    ),
    unlocked: (
        "Votre compte a été déverrouillé",
        "Votre compte a été déverrouillé à une borne libre-service. Votre mot de passe n’a pas changé.",
    ),
    reset_unlocked: (
        "Votre mot de passe a été réinitialisé et votre compte déverrouillé",
        "Votre mot de passe a été réinitialisé et votre compte déverrouillé à une borne libre-service.",
    ),
    changed: (
        "Votre mot de passe a été modifié",
        "Votre mot de passe a été modifié à une borne libre-service.",
    ),
    queued_applied: (
        "Votre demande a été effectuée",
        "Votre demande faite à une borne libre-service ({change}) vient d’être appliquée.",
    ),
    queued_rejected: (
        "Votre demande n’a pas été appliquée",
        "Votre demande faite à une borne libre-service ({change}) a été refusée par l’annuaire. Rien \
         n’a été modifié\u{a0}; votre ancien mot de passe reste valable.",
    ),
    queued_expired: (
        "Votre demande a expiré",
        "Votre demande faite à une borne libre-service ({change}) n’a pas pu être appliquée à temps \
         et a expiré. Rien n’a été modifié\u{a0}; votre ancien mot de passe reste valable.",
    ),
    lockout: (
        "Libre-service de mot de passe bloqué pour votre compte",
        "Trop de tentatives de vérification ont échoué pour votre compte. Le libre-service de mot de \
         passe est bloqué pour ce compte jusqu’au {until}.",
    ),
    privileged: (
        "[{kiosk}] Compte privilégié modifié",
        "Un compte privilégié a été modifié en libre-service\u{a0}: {account} ({change}).",
    ),
    lockout_alert: (
        "[{kiosk}] Blocage du libre-service",
        "Le libre-service est bloqué pour {account} après {failures} tentatives de vérification \
         échouées, jusqu’au {until}.",
    ),
    throttled: (
        "[{kiosk}] Borne ralentie",
        "Cette borne a enregistré {failures} vérifications échouées en peu de temps et suspend le \
         libre-service jusqu’au {until}.",
    ),
};

pub(super) const ES: Texts = Texts {
    code_subject: "Su código de verificación",
    code_intro: "Su código de verificación es:",
    code_use: "Introdúzcalo en la pantalla del quiosco. Es válido durante {validity} y solo puede \
               usarse una vez.",
    requested_at: "Solicitado en el quiosco {kiosk} ({location}).",
    not_you_code: "Si no ha sido usted, no comparta este código con nadie y llame al servicio de \
                   asistencia: {helpdesk}",
    minutes: ("minuto", "minutos"),
    seconds: ("segundo", "segundos"),
    label_reference: "Referencia",
    label_time: "Hora",
    label_kiosk: "Quiosco",
    not_you: "Si no ha sido usted, llame de inmediato al servicio de asistencia: {helpdesk}",
    try_again: "Vuelva a intentarlo en un quiosco o llame al servicio de asistencia: {helpdesk}",
    admin_footer: "Los detalles están en el registro de auditoría del quiosco con esta referencia.",
    changes: [
        "restablecimiento de la contraseña",
        "desbloqueo de la cuenta",
        "restablecimiento de la contraseña y desbloqueo de la cuenta",
    ],
    reset: (
        "Su contraseña se ha restablecido",
        "Su contraseña se ha restablecido en un quiosco de autoservicio.",
    ),
    unlocked: (
        "Su cuenta se ha desbloqueado",
        "Su cuenta se ha desbloqueado en un quiosco de autoservicio. Su contraseña no ha cambiado.",
    ),
    reset_unlocked: (
        "Su contraseña se ha restablecido y su cuenta se ha desbloqueado",
        "Su contraseña se ha restablecido y su cuenta se ha desbloqueado en un quiosco de \
         autoservicio.",
    ),
    changed: (
        "Su contraseña se ha cambiado",
        "Su contraseña se ha cambiado en un quiosco de autoservicio.",
    ),
    queued_applied: (
        "Su solicitud se ha completado",
        "Su solicitud hecha en un quiosco de autoservicio ({change}) se ha aplicado.",
    ),
    queued_rejected: (
        "Su solicitud no se ha aplicado",
        "El directorio ha rechazado su solicitud hecha en un quiosco de autoservicio ({change}). No se \
         ha cambiado nada; su contraseña anterior sigue siendo válida.",
    ),
    queued_expired: (
        "Su solicitud ha caducado",
        "Su solicitud hecha en un quiosco de autoservicio ({change}) no pudo aplicarse a tiempo y ha \
         caducado. No se ha cambiado nada; su contraseña anterior sigue siendo válida.",
    ),
    lockout: (
        "Autoservicio de contraseñas bloqueado para su cuenta",
        "Ha habido demasiados intentos de verificación fallidos para su cuenta. El autoservicio de \
         contraseñas está bloqueado para su cuenta hasta el {until}.",
    ),
    privileged: (
        "[{kiosk}] Cuenta privilegiada modificada",
        "Se ha modificado una cuenta privilegiada mediante autoservicio: {account} ({change}).",
    ),
    lockout_alert: (
        "[{kiosk}] Bloqueo del autoservicio",
        "El autoservicio está bloqueado para {account} tras {failures} intentos de verificación \
         fallidos, hasta el {until}.",
    ),
    throttled: (
        "[{kiosk}] Quiosco limitado",
        "Este quiosco ha registrado {failures} verificaciones fallidas en poco tiempo y pausa el \
         autoservicio hasta el {until}.",
    ),
};
