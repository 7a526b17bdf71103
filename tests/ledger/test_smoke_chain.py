from tests.support import World, q, site


def test_cotton_chain_appends_and_audits(world: World):
    farm = world.party("farm", "Lubbock Farm", subdivision="US-TX")
    gin = world.party("gin", "Plains Gin", subdivision="US-TX")
    farm.submit(
        "origin",
        lot={"id": "farm/seed-1", "material": "cotton.seed", "quantity": q(12000), "unit": "kg"},
        site=site("Lubbock farm", "US", "US-TX"),
    )
    d = farm.submit("dispatch", lot="farm/seed-1", quantity=q(12000), unit="kg", to="gin")
    gin.submit("receipt", dispatch=d.digest, quantity=q(12000), unit="kg")
    gin.submit(
        "transform",
        process="cotton.ginning",
        inputs=[{"lot": "farm/seed-1", "quantity": q(12000), "unit": "kg"}],
        outputs=[
            {"id": "gin/lint-1", "material": "cotton.lint", "quantity": q(4200), "unit": "kg"}
        ],
        site=site("Plains gin", "US", "US-TX"),
    )
    bad = gin.attempt(
        "transform",
        process="cotton.ginning",
        inputs=[{"lot": "farm/seed-1", "quantity": q(1), "unit": "kg"}],
        outputs=[{"id": "gin/lint-2", "material": "cotton.lint", "quantity": q(1), "unit": "kg"}],
        site=site(),
    )
    assert bad.error is not None
    assert bad.error.code == "rejected.not_held"
    from ledger.audit import audit

    report = audit(world.ledger.store)
    assert report.ok, report.problems
    assert report.size == 7
