"""The permission matrix every module reuses: for one URL, what each cast member gets.

    assert_matrix(login, "get", url, {"manager_a": 200, "frontdesk_a": 403, "manager_b": 404, "anonymous": 302})

Every member of the cast must be named, so a new role or a forgotten outsider fails loudly."""

CAST = ("manager_a", "frontdesk_a", "dpo_a", "manager_b", "anonymous")


def assert_matrix(login, method: str, url: str, expected: dict[str, int], **kwargs) -> dict:
    missing = set(CAST) - set(expected)
    assert not missing, f"matrix for {url} does not say what {sorted(missing)} get"
    got, responses = {}, {}
    for name in expected:
        response = getattr(login(name), method)(url, **kwargs)
        got[name] = response.status_code
        responses[name] = response
    assert got == expected, f"{method.upper()} {url}"
    return responses
