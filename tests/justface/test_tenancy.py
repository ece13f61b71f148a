import pytest

from access.models import Door
from justface.models import AuditEntry
from justface.tenancy import NO_ACCESS, Perm, Role, Scope, scope_for
from members.models import Centre, Chain, Member
from tests.conftest import make_member


@pytest.fixture
def members(world):
    return {
        "a1": make_member(world.chain_a, world.centre_a1),
        "a2": make_member(world.chain_a, world.centre_a2),
        "b1": make_member(world.chain_b, world.centre_b1),
    }


def visible(world, name, model):
    return set(scope_for(world.user(name)).filter(model.objects.all()))


def test_each_role_sees_its_share_of_members(world, members):
    assert visible(world, "manager_a", Member) == {members["a1"], members["a2"]}
    assert visible(world, "dpo_a", Member) == {members["a1"], members["a2"]}
    assert visible(world, "frontdesk_a", Member) == {members["a1"]}
    assert visible(world, "manager_b", Member) == {members["b1"]}
    assert visible(world, "anonymous", Member) == set()
    assert visible(world, "operator", Member) == set(members.values())


def test_outsider_sees_nothing_of_the_other_chain(world, members):
    Door.objects.create(centre=world.centre_a1, name="Main")
    assert visible(world, "manager_b", Chain) == {world.chain_b}
    assert visible(world, "manager_b", Centre) == {world.centre_b1}
    assert visible(world, "manager_b", Member) == {members["b1"]}
    assert visible(world, "manager_b", Door) == set()


def test_front_desk_sees_chain_wide_setup_but_only_their_centre(world):
    assert visible(world, "frontdesk_a", Centre) == {world.centre_a1}
    assert visible(world, "frontdesk_a", Chain) == {world.chain_a}


def test_a_login_without_staff_role_sees_nothing(world, django_user_model):
    user = django_user_model.objects.create_user("member_login", password="x")
    scope = scope_for(user)
    assert scope.role is None and not scope.is_staff
    assert not scope.filter(Member.objects.all()).exists()
    assert not any(scope.can(p) for p in Perm)


def test_permissions_per_role(world):
    manager, desk, dpo = (scope_for(world.user(n)) for n in ("manager_a", "frontdesk_a", "dpo_a"))
    assert manager.can(Perm.EDIT_CHAIN_SETUP) and manager.can(Perm.EXPORT_MEMBERS) and not manager.can(Perm.VIEW_AUDIT)
    assert desk.can(Perm.VIEW_MEMBERS) and not desk.can(Perm.EXPORT_MEMBERS) and not desk.can(Perm.EDIT_CHAIN_SETUP)
    assert dpo.can(Perm.VIEW_AUDIT) and dpo.can(Perm.EXPORT_MEMBERS) and not dpo.can(Perm.EDIT_MEMBERS)
    assert NO_ACCESS.can(Perm.VIEW_MEMBERS) is False


def test_contains_checks_unsaved_objects_by_their_chain(world):
    manager_b = scope_for(world.user("manager_b"))
    assert not manager_b.contains(Centre(chain=world.chain_a, name="x", slug="x"))
    assert manager_b.contains(Centre(chain=world.chain_b, name="x", slug="x"))
    assert not manager_b.contains(Door(centre=world.centre_a1, name="Main"))


def test_audit_entries_are_scoped_by_chain_id(world):
    AuditEntry.objects.create(action="t", actor_kind="system", chain_id=world.chain_a.pk)
    AuditEntry.objects.create(action="t", actor_kind="system", chain_id=world.chain_b.pk)
    assert {e.chain_id for e in visible(world, "dpo_a", AuditEntry)} == {world.chain_a.pk}


def test_unscopable_model_is_refused():
    from django.contrib.auth.models import Group

    with pytest.raises(TypeError):
        Scope(role=Role.MANAGER, chain_id=1).filter(Group.objects.all())
