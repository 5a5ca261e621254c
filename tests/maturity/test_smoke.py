from tests.maturity.conftest import answers_at


def test_public_flow(client, public_check, db):
    token = public_check(answers_at(2, steering__goals=3, planning__roadmap=1))
    response = client.get(f"/check/r/{token}/result/")
    assert response.status_code == 200, response.content[:2000]
    print(response.content.decode()[:200])
    response = client.get(f"/check/r/{token}/report.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
