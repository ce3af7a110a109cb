"""SQLAlchemy (ORM, psycopg2 driver) and an idgen-keyed table: the key is
a server_default, which the ORM reads back with RETURNING.  Connects where
PGHOST, PGPORT, PGDATABASE and PGUSER say."""
import sqlalchemy
from sqlalchemy import BigInteger, Column, Text, create_engine, select, text
from sqlalchemy.orm import Session, declarative_base

Base = declarative_base()


class Order(Base):
    __tablename__ = "sa_orders"
    id = Column(BigInteger, primary_key=True,
                server_default=text("next_id('sa_orders')"))
    item = Column(Text, nullable=False)


engine = create_engine("postgresql+psycopg2://", future=True)
with engine.begin() as conn:
    conn.execute(text("SELECT idgen.create_tag('sa_orders')"))
Base.metadata.create_all(engine)

with Session(engine) as session:
    orders = [Order(item=f"item {i}") for i in range(200)]
    session.add_all(orders)
    session.commit()
    inserted = {order.id: order.item for order in orders}

    assert len(inserted) == len(orders), "duplicate keys"
    stored = dict(session.execute(select(Order.id, Order.item)).all())
    assert stored == inserted, "stored keys differ from returned ones"

print(f"SQLAlchemy {sqlalchemy.__version__}: {len(inserted)} distinct keys, each stored as returned")
