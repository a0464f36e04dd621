//! The consent page's words in each language Postern writes emails in
//! (`mail::LANGUAGES`): the question, what each scope lets the application
//! learn or do, and the buttons. The language is the first of the request's
//! `ui_locales` (OpenID Connect Core §3.1.2.1) that Postern has, else the
//! person's own, else English.

use crate::model::Side;

/// Everything the consent page says, in one language. `{application}` and
/// `{organization}` are filled in by the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentWords {
    pub language: &'static str,
    /// `"{application}" wants to access your account.`
    pub question: &'static str,
    pub signed_in_as: &'static str,
    pub application_of: &'static str,
    pub it_will: &'static str,
    /// When no scope is asked for.
    pub nothing: &'static str,
    pub walls: &'static str,
    pub revoke: &'static str,
    pub cancel: &'static str,
    pub grant: &'static str,
    pub working: &'static str,
    /// OpenID Connect: an ID token (who you are).
    pub openid: &'static str,
    /// Back office `profile`: user name and language.
    pub profile: &'static str,
    pub email: &'static str,
    /// `users:read`, with `{organization}`.
    pub users_read: &'static str,
    /// Storefront `profile`: the customer profile API.
    pub customer_profile: &'static str,
    /// `offline_access`: refresh tokens.
    pub offline: &'static str,
}

const EN: ConsentWords = ConsentWords {
    language: "en",
    question: "\"{application}\" wants to access your account.",
    signed_in_as: "Signed in as",
    application_of: "application of",
    it_will: "It will be able to:",
    nothing: "Confirm who you are (no other access).",
    walls: "Only within {organization}, and only while you belong to it: nothing of other organizations.",
    revoke: "You can revoke this access at any time on your Authorized applications page.",
    cancel: "Cancel",
    grant: "Grant",
    working: "Working…",
    openid: "Know who you are: sign you in with your account (its identifier and when you signed in)",
    profile: "Know your user name and your language",
    email: "Know your email address",
    users_read: "Read the users of {organization} as you can see them: user names, email addresses, \
                 whether each is enabled or an administrator, and when each was created",
    customer_profile: "Read your customer profile: your user name, email address, organization and language, \
                       whether your account is enabled and when it was created",
    offline: "Keep this access while you are away (until you revoke it)",
};

const DE: ConsentWords = ConsentWords {
    language: "de",
    question: "„{application}“ möchte auf Ihr Konto zugreifen.",
    signed_in_as: "Angemeldet als",
    application_of: "Anwendung von",
    it_will: "Die Anwendung kann dann:",
    nothing: "Bestätigen, wer Sie sind (kein weiterer Zugriff).",
    walls: "Nur innerhalb von {organization} und nur, solange Sie dazugehören: nichts aus anderen Organisationen.",
    revoke: "Sie können diesen Zugriff jederzeit auf Ihrer Seite „Autorisierte Anwendungen“ widerrufen.",
    cancel: "Abbrechen",
    grant: "Zulassen",
    working: "Einen Moment…",
    openid: "Wissen, wer Sie sind: Sie mit Ihrem Konto anmelden (seine Kennung und wann Sie sich angemeldet haben)",
    profile: "Ihren Benutzernamen und Ihre Sprache erfahren",
    email: "Ihre E-Mail-Adresse erfahren",
    users_read: "Die Benutzer von {organization} so lesen, wie Sie sie sehen: Benutzernamen, E-Mail-Adressen, \
                 ob sie aktiv oder Administratoren sind und wann sie angelegt wurden",
    customer_profile: "Ihr Kundenprofil lesen: Benutzername, E-Mail-Adresse, Organisation und Sprache, \
                       ob Ihr Konto aktiv ist und wann es angelegt wurde",
    offline: "Diesen Zugriff behalten, während Sie nicht angemeldet sind (bis Sie ihn widerrufen)",
};

const ES: ConsentWords = ConsentWords {
    language: "es",
    question: "«{application}» quiere acceder a su cuenta.",
    signed_in_as: "Sesión iniciada como",
    application_of: "aplicación de",
    it_will: "Podrá:",
    nothing: "Confirmar quién es usted (ningún otro acceso).",
    walls: "Solo dentro de {organization}, y solo mientras usted pertenezca a ella: nada de otras organizaciones.",
    revoke: "Puede revocar este acceso en cualquier momento en su página de aplicaciones autorizadas.",
    cancel: "Cancelar",
    grant: "Permitir",
    working: "Un momento…",
    openid: "Saber quién es usted: iniciar su sesión con su cuenta (su identificador y cuándo inició sesión)",
    profile: "Conocer su nombre de usuario y su idioma",
    email: "Conocer su dirección de correo electrónico",
    users_read: "Leer los usuarios de {organization} tal como usted los ve: nombres de usuario, direcciones de \
                 correo, si están activos o son administradores y cuándo se crearon",
    customer_profile: "Leer su perfil de cliente: nombre de usuario, correo electrónico, organización e idioma, \
                       si su cuenta está activa y cuándo se creó",
    offline: "Conservar este acceso mientras usted no esté (hasta que lo revoque)",
};

const FR: ConsentWords = ConsentWords {
    language: "fr",
    question: "« {application} » souhaite accéder à votre compte.",
    signed_in_as: "Connecté en tant que",
    application_of: "application de",
    it_will: "Elle pourra :",
    nothing: "Confirmer votre identité (aucun autre accès).",
    walls: "Uniquement au sein de {organization}, et tant que vous en faites partie : rien des autres organisations.",
    revoke: "Vous pouvez révoquer cet accès à tout moment sur votre page « Applications autorisées ».",
    cancel: "Annuler",
    grant: "Autoriser",
    working: "Un instant…",
    openid: "Savoir qui vous êtes : vous connecter avec votre compte (son identifiant et l’heure de votre connexion)",
    profile: "Connaître votre nom d’utilisateur et votre langue",
    email: "Connaître votre adresse e-mail",
    users_read: "Lire les utilisateurs de {organization} tels que vous les voyez : noms d’utilisateur, adresses \
                 e-mail, s’ils sont actifs ou administrateurs, et leur date de création",
    customer_profile: "Lire votre profil client : nom d’utilisateur, adresse e-mail, organisation et langue, \
                       si votre compte est actif et sa date de création",
    offline: "Conserver cet accès en votre absence (jusqu’à ce que vous le révoquiez)",
};

const IT: ConsentWords = ConsentWords {
    language: "it",
    question: "«{application}» vuole accedere al tuo account.",
    signed_in_as: "Accesso effettuato come",
    application_of: "applicazione di",
    it_will: "Potrà:",
    nothing: "Confermare chi sei (nessun altro accesso).",
    walls: "Solo all’interno di {organization}, e solo finché ne fai parte: niente di altre organizzazioni.",
    revoke: "Puoi revocare questo accesso in qualsiasi momento dalla pagina Applicazioni autorizzate.",
    cancel: "Annulla",
    grant: "Consenti",
    working: "Un momento…",
    openid:
        "Sapere chi sei: farti accedere con il tuo account (il suo identificativo e quando hai effettuato l’accesso)",
    profile: "Conoscere il tuo nome utente e la tua lingua",
    email: "Conoscere il tuo indirizzo email",
    users_read: "Leggere gli utenti di {organization} come li vedi tu: nomi utente, indirizzi email, se sono \
                 attivi o amministratori e quando sono stati creati",
    customer_profile: "Leggere il tuo profilo cliente: nome utente, indirizzo email, organizzazione e lingua, \
                       se il tuo account è attivo e quando è stato creato",
    offline: "Mantenere questo accesso mentre sei assente (finché non lo revochi)",
};

const NL: ConsentWords = ConsentWords {
    language: "nl",
    question: "„{application}” wil toegang tot uw account.",
    signed_in_as: "Aangemeld als",
    application_of: "applicatie van",
    it_will: "De applicatie kan dan:",
    nothing: "Bevestigen wie u bent (geen andere toegang).",
    walls: "Alleen binnen {organization}, en alleen zolang u daar bij hoort: niets van andere organisaties.",
    revoke: "U kunt deze toegang op elk moment intrekken op uw pagina Geautoriseerde applicaties.",
    cancel: "Annuleren",
    grant: "Toestaan",
    working: "Even geduld…",
    openid: "Weten wie u bent: u aanmelden met uw account (de identificatie ervan en wanneer u zich aanmeldde)",
    profile: "Uw gebruikersnaam en uw taal kennen",
    email: "Uw e-mailadres kennen",
    users_read: "De gebruikers van {organization} lezen zoals u ze ziet: gebruikersnamen, e-mailadressen, \
                 of ze actief of beheerder zijn en wanneer ze zijn aangemaakt",
    customer_profile: "Uw klantprofiel lezen: gebruikersnaam, e-mailadres, organisatie en taal, \
                       of uw account actief is en wanneer het is aangemaakt",
    offline: "Deze toegang behouden terwijl u afwezig bent (tot u hem intrekt)",
};

const PL: ConsentWords = ConsentWords {
    language: "pl",
    question: "„{application}” chce uzyskać dostęp do Twojego konta.",
    signed_in_as: "Zalogowano jako",
    application_of: "aplikacja organizacji",
    it_will: "Aplikacja będzie mogła:",
    nothing: "Potwierdzić, kim jesteś (bez innego dostępu).",
    walls: "Tylko w obrębie {organization} i tylko dopóki do niej należysz: nic z innych organizacji.",
    revoke: "Możesz w każdej chwili cofnąć ten dostęp na stronie Autoryzowane aplikacje.",
    cancel: "Anuluj",
    grant: "Zezwól",
    working: "Chwileczkę…",
    openid: "Wiedzieć, kim jesteś: logować Cię Twoim kontem (jego identyfikator i czas logowania)",
    profile: "Znać Twoją nazwę użytkownika i język",
    email: "Znać Twój adres e-mail",
    users_read: "Odczytywać użytkowników {organization} tak, jak Ty ich widzisz: nazwy użytkowników, adresy \
                 e-mail, czy są aktywni lub są administratorami i kiedy zostali utworzeni",
    customer_profile: "Odczytywać Twój profil klienta: nazwę użytkownika, adres e-mail, organizację i język, \
                       czy Twoje konto jest aktywne i kiedy zostało utworzone",
    offline: "Zachować ten dostęp, gdy Cię nie ma (dopóki go nie cofniesz)",
};

const PT: ConsentWords = ConsentWords {
    language: "pt",
    question: "«{application}» quer aceder à sua conta.",
    signed_in_as: "Sessão iniciada como",
    application_of: "aplicação de",
    it_will: "Poderá:",
    nothing: "Confirmar quem é (nenhum outro acesso).",
    walls: "Apenas dentro de {organization}, e apenas enquanto pertencer a ela: nada de outras organizações.",
    revoke: "Pode revogar este acesso a qualquer momento na sua página de aplicações autorizadas.",
    cancel: "Cancelar",
    grant: "Permitir",
    working: "Um momento…",
    openid: "Saber quem é: iniciar a sua sessão com a sua conta (o seu identificador e quando iniciou sessão)",
    profile: "Conhecer o seu nome de utilizador e o seu idioma",
    email: "Conhecer o seu endereço de e-mail",
    users_read: "Ler os utilizadores de {organization} tal como os vê: nomes de utilizador, endereços de e-mail, \
                 se estão ativos ou são administradores e quando foram criados",
    customer_profile: "Ler o seu perfil de cliente: nome de utilizador, endereço de e-mail, organização e idioma, \
                       se a sua conta está ativa e quando foi criada",
    offline: "Manter este acesso enquanto estiver ausente (até o revogar)",
};

const UK: ConsentWords = ConsentWords {
    language: "uk",
    question: "«{application}» хоче отримати доступ до вашого облікового запису.",
    signed_in_as: "Ви увійшли як",
    application_of: "застосунок організації",
    it_will: "Застосунок зможе:",
    nothing: "Підтвердити, хто ви (без іншого доступу).",
    walls: "Лише в межах {organization} і лише поки ви до неї належите: нічого з інших організацій.",
    revoke: "Ви можете будь-коли відкликати цей доступ на сторінці «Авторизовані застосунки».",
    cancel: "Скасувати",
    grant: "Дозволити",
    working: "Зачекайте…",
    openid: "Знати, хто ви: входити з вашим обліковим записом (його ідентифікатор і час входу)",
    profile: "Знати ваше ім’я користувача та мову",
    email: "Знати вашу адресу електронної пошти",
    users_read: "Читати користувачів {organization} так, як їх бачите ви: імена користувачів, адреси пошти, \
                 чи вони активні або адміністратори і коли їх створено",
    customer_profile: "Читати ваш профіль клієнта: ім’я користувача, адресу пошти, організацію та мову, \
                       чи активний ваш обліковий запис і коли його створено",
    offline: "Зберігати цей доступ, поки вас немає (доки ви його не відкличете)",
};

const ALL: [&ConsentWords; 9] = [&EN, &DE, &ES, &FR, &IT, &NL, &PL, &PT, &UK];

/// The words for `language` (a BCP 47 tag; its primary subtag decides).
fn words(language: &str) -> Option<&'static ConsentWords> {
    let primary = language.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    ALL.into_iter().find(|w| w.language == primary)
}

/// The consent page's words: the first of `ui_locales` Postern has, else
/// the person's language, else English.
pub fn consent(ui_locales: &[String], person: &str) -> &'static ConsentWords {
    ui_locales.iter().find_map(|l| words(l)).or_else(|| words(person)).unwrap_or(&EN)
}

impl ConsentWords {
    /// What the scope `name` of `side` lets the application learn or do, in
    /// these words, for an application of `organization`.
    pub fn reach(&self, side: Side, name: &str, organization: &str) -> Option<String> {
        let text = match (side, name) {
            (_, "openid") => self.openid,
            (_, "email") => self.email,
            (_, "offline_access") => self.offline,
            (Side::BackOffice, "profile") => self.profile,
            (Side::BackOffice, "users:read") => self.users_read,
            (Side::Storefront, "profile") => self.customer_profile,
            _ => return None,
        };
        Some(text.replace("{organization}", organization))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::scope::SCOPES;

    #[test]
    fn every_language_words_every_scope_and_keeps_the_placeholders() {
        for words in ALL {
            assert!(crate::service::mail::is_language(words.language), "{}", words.language);
            assert!(words.question.contains("{application}"), "{}", words.language);
            assert!(words.walls.contains("{organization}"), "{}", words.language);
            for scope in SCOPES {
                let reach = words.reach(scope.kind, scope.name, "Acme");
                assert!(reach.is_some_and(|r| !r.contains('{')), "{} {}", words.language, scope.name);
            }
        }
        assert_eq!(ALL.len(), crate::service::mail::LANGUAGES.len());
    }

    #[test]
    fn ui_locales_come_first_then_the_person_then_english() {
        assert_eq!(consent(&["de-CH".into(), "fr".into()], "it").language, "de");
        assert_eq!(consent(&["ja".into(), "fr-CA".into()], "it").language, "fr");
        assert_eq!(consent(&[], "it").language, "it");
        assert_eq!(consent(&["ja".into()], "xx").language, "en");
    }
}
