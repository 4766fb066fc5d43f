"""The lists every organisation starts with: factors per survey kind, lost-time choices, fatigue rules and
one template per kind (blank texts: the translated standard wording). All editable in the admin."""

from django.db import migrations

P, N = "positive", "negative"

FACTORS = {
    "incident": [
        (P, "fast", "Solved quickly", "Hızlı çözüldü"),
        (P, "first_time", "Fixed the first time", "İlk seferde çözüldü"),
        (P, "clear_communication", "Communication was clear", "İletişim açıktı"),
        (P, "kept_informed", "I was kept informed", "Süreç hakkında bilgilendirildim"),
        (P, "friendly", "Friendly and helpful people", "Güler yüzlü ve yardımsever ekip"),
        (P, "skilled", "They knew what they were doing", "Ekip konusuna hâkimdi"),
        (N, "slow", "Took too long", "Çok uzun sürdü"),
        (N, "passed_around", "Passed around several times", "Birden çok kez aktarıldı"),
        (N, "not_fixed", "The problem is not really solved", "Sorun tam olarak çözülmedi"),
        (N, "repeat_myself", "I had to explain it again and again", "Aynı şeyi tekrar tekrar anlatmam gerekti"),
        (N, "no_updates", "I was not kept informed", "Süreç hakkında bilgilendirilmedim"),
        (N, "hard_to_reach", "Support was hard to reach", "Desteğe ulaşmak zordu"),
    ],
    "request": [
        (P, "fast", "Delivered quickly", "Hızlı teslim edildi"),
        (P, "easy_to_ask", "Easy to ask for", "Talep etmesi kolaydı"),
        (P, "clear_communication", "Communication was clear", "İletişim açıktı"),
        (P, "got_what_i_needed", "I got what I needed", "İhtiyacım olanı aldım"),
        (N, "slow", "Took too long", "Çok uzun sürdü"),
        (N, "approvals", "Too many approvals", "Çok fazla onay adımı vardı"),
        (N, "incomplete", "Incomplete or wrong delivery", "Eksik ya da yanlış teslim edildi"),
        (N, "passed_around", "Passed around several times", "Birden çok kez aktarıldı"),
        (N, "no_updates", "I was not kept informed", "Süreç hakkında bilgilendirilmedim"),
    ],
    "devices": [
        (P, "fast", "My device is fast", "Cihazım hızlı"),
        (P, "reliable", "It works reliably", "Sorunsuz çalışıyor"),
        (P, "right_equipment", "I have the right equipment", "İşim için doğru ekipmana sahibim"),
        (N, "slow", "My device is slow", "Cihazım yavaş"),
        (N, "crashes", "It crashes or freezes", "Çöküyor ya da donuyor"),
        (N, "battery", "Poor battery life", "Pil ömrü kısa"),
        (N, "outdated", "Outdated equipment", "Ekipman eskimiş"),
    ],
    "applications": [
        (P, "easy", "Easy to use", "Kullanımı kolay"),
        (P, "fast", "Fast and responsive", "Hızlı ve akıcı"),
        (P, "available", "Available when I need them", "İhtiyacım olduğunda erişilebilir"),
        (N, "slow", "Slow", "Yavaş"),
        (N, "outages", "Frequent outages", "Sık sık kesinti oluyor"),
        (N, "hard", "Hard to use", "Kullanımı zor"),
        (N, "access", "Access problems", "Erişim sorunları"),
    ],
    "remote_work": [
        (P, "vpn", "The VPN works well", "VPN sorunsuz çalışıyor"),
        (P, "calls", "Video calls work well", "Görüntülü görüşmeler sorunsuz"),
        (P, "access", "I can reach everything I need", "İhtiyacım olan her şeye erişebiliyorum"),
        (N, "vpn_problems", "VPN problems", "VPN sorunları"),
        (N, "connection", "Unstable connection", "Bağlantı kararsız"),
        (N, "call_problems", "Problems in video calls", "Görüntülü görüşmelerde sorunlar"),
        (N, "no_access", "I cannot reach some systems", "Bazı sistemlere erişemiyorum"),
    ],
    "collaboration": [
        (P, "responsive", "IT answers quickly", "BT hızlı yanıt veriyor"),
        (P, "understands", "IT understands my work", "BT işimi anlıyor"),
        (P, "proactive", "IT warns me before problems hit", "BT sorunlar çıkmadan beni bilgilendiriyor"),
        (N, "slow", "IT is slow to answer", "BT geç yanıt veriyor"),
        (N, "jargon", "Too much jargon", "Çok fazla teknik terim kullanılıyor"),
        (N, "not_heard", "My feedback is not heard", "Geri bildirimlerim dikkate alınmıyor"),
    ],
    "overall": [
        (P, "tools", "Good tools", "İyi araçlar"),
        (P, "support", "Good support", "İyi destek"),
        (P, "just_works", "Things just work", "Her şey sorunsuz işliyor"),
        (N, "interruptions", "Frequent interruptions", "Sık sık kesinti yaşanıyor"),
        (N, "hard_to_get_support", "Support is hard to get", "Destek almak zor"),
        (N, "tools_slow_me_down", "My tools slow me down", "Araçlarım beni yavaşlatıyor"),
    ],
}

LOST_TIME = [
    (0, "None", "Hiç"),
    (10, "Less than 15 minutes", "15 dakikadan az"),
    (40, "15 minutes to an hour", "15 dakika ile 1 saat arası"),
    (150, "1 to 4 hours", "1 ile 4 saat arası"),
    (360, "Half a day to a day", "Yarım gün ile bir gün arası"),
    (720, "More than a day", "Bir günden fazla"),
]

# One ticket survey per person per 7 days, one proactive survey per 30 days; no cross-kind limit.
FATIGUE = [("incident", 7, True), ("request", 7, True), ("proactive", 30, True), ("any", 3, False)]


def create_defaults(apps, schema_editor):
    Factor = apps.get_model("surveys", "Factor")
    LostTimeChoice = apps.get_model("surveys", "LostTimeChoice")
    FatigueRule = apps.get_model("surveys", "FatigueRule")
    SurveyTemplate = apps.get_model("surveys", "SurveyTemplate")
    for kind, factors in FACTORS.items():
        SurveyTemplate.objects.get_or_create(kind=kind)
        for order, (polarity, key, label_en, label_tr) in enumerate(factors):
            Factor.objects.get_or_create(
                kind=kind,
                key=key,
                defaults={"polarity": polarity, "label_en": label_en, "label_tr": label_tr, "order": order},
            )
    for minutes, label_en, label_tr in LOST_TIME:
        LostTimeChoice.objects.get_or_create(minutes=minutes, defaults={"label_en": label_en, "label_tr": label_tr})
    for kind, days, enabled in FATIGUE:
        FatigueRule.objects.get_or_create(kind=kind, defaults={"days": days, "enabled": enabled})


class Migration(migrations.Migration):
    dependencies = [("surveys", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
