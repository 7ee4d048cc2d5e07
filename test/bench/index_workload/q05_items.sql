\set o random(1, 300000)
SELECT product_id, qty FROM order_items WHERE order_id = :o;
